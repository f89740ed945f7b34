using Rebundle.Backends;
using Rebundle.Domain;

namespace Rebundle.Runbook
{
    /// <summary>
    /// The load balancer's part of a recycle's ending. Nothing is terminated while registered or
    /// draining: surplus still in a target group (left by an interrupted run) is deregistered and
    /// terminated once drained; a stop deregisters the replacements it would terminate and leaves
    /// them to drain for the next run. A server someone deregistered by hand is not registered
    /// again: taking one out of service is the operator's call.
    /// </summary>
    internal sealed class LoadBalancedCleanup
    {
        private readonly IFleetBackend _backend;
        private readonly IRunbookReporter _reporter;
        private readonly TargetGroupView _targets;

        public LoadBalancedCleanup(IFleetBackend backend, IRunbookReporter reporter, CancellationToken cancellation)
        {
            _backend = backend;
            _reporter = reporter;
            _targets = new TargetGroupView(backend, cancellation);
        }

        /// <summary>
        /// Of <paramref name="servers"/>, deregisters those in a target group of their farm role and
        /// returns the rest (safe to terminate now). With <paramref name="drainTimeout"/>, waits for
        /// the deregistered to drain and returns them too; without, they are left running, draining.
        /// </summary>
        public IReadOnlyList<Server> Release(IReadOnlyDictionary<string, FarmRole> farmRoles, IReadOnlyCollection<Server> servers, TimeSpan? drainTimeout, CancellationToken cancellation)
        {
            var balanced = servers.Where(s => farmRoles.TryGetValue(s.FarmRoleId, out var r) && _targets.IsBalanced(r)).ToList();
            if (balanced.Count == 0) return servers.ToList();
            var roles = balanced.Select(s => farmRoles[s.FarmRoleId]).Distinct().ToList();
            _targets.Read(roles, cancellation);
            var inGroups = balanced.Where(s => !_targets.Gone(farmRoles[s.FarmRoleId], s.Id)).ToList();
            foreach (var group in inGroups.GroupBy(s => s.FarmRoleId)) _targets.Deregister(farmRoles[group.Key], group.ToList(), cancellation);
            var free = servers.Where(s => !inGroups.Contains(s)).ToList();
            if (inGroups.Count == 0) return free;
            if (drainTimeout == null)
            {
                foreach (var server in inGroups)
                    _reporter.Warning($"Deregistered {server.Name} ({server.Id}) of {server.Farm}/{server.Alias} from its target groups and left it running while it drains; the next Invoke-TtmRecycle terminates it.");
                return free;
            }
            var clock = _backend.Clock;
            var until = clock.UtcNow + drainTimeout.Value;
            while (true)
            {
                _targets.Read(roles, cancellation);
                var draining = inGroups.Where(s => !_targets.Gone(farmRoles[s.FarmRoleId], s.Id)).ToList();
                if (draining.Count == 0) return servers.ToList();
                if (clock.UtcNow >= until)
                {
                    foreach (var server in draining)
                        _reporter.Warning($"{server.Name} ({server.Id}) of {server.Farm}/{server.Alias} was still draining after {drainTimeout}; it was left running, deregistered. The next Invoke-TtmRecycle terminates it.");
                    return servers.Where(s => !draining.Contains(s)).ToList();
                }
                clock.Sleep(_backend.PollInterval, cancellation);
            }
        }
    }
}

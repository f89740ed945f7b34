using Rebundle.Backends;
using Rebundle.Domain;

namespace Rebundle.Runbook
{
    /// <summary>
    /// The load balancer's part of a recycle's ending. Nothing is terminated while registered or
    /// draining: surplus still in a target group (left by an interrupted run) is deregistered and
    /// terminated once drained; a stop deregisters the replacements it would terminate and leaves
    /// them to drain for the next run, except where an Auto Scaling group drains them itself. A
    /// server someone deregistered by hand is not registered again: taking one out of service is
    /// the operator's call.
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
            // A stop cannot wait for a drain; a group can: terminated through it, its server is
            // deregistered from the group's target groups and drained before it goes. Left running
            // instead, it would hold the group above its count until the next run.
            var balanced = servers.Where(s => farmRoles.TryGetValue(s.FarmRoleId, out var r) && _targets.IsBalanced(r)
                                              && !(drainTimeout == null && r.DrainsThroughGroup)).ToList();
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
            // The shared wait (one read of the target groups per round, a timeout, progress, Ctrl+C).
            var leaving = inGroups.ToDictionary(server => server.Id, StringComparer.Ordinal);
            var waited = new Waiter(_backend.Clock, _backend.PollInterval, _reporter, _backend.Capability<IPollBackoff>()?.LongestPollInterval).WaitForAll(
                RecycleService.ProgressId - 2, "Waiting for surplus to drain from its target groups", leaving.Keys.ToList(),
                ids =>
                {
                    _targets.Read(roles, cancellation);
                    return ids.Select(id => (Id: id, Gone: _targets.Gone(farmRoles[leaving[id].FarmRoleId], id))).ToList();
                },
                drained => drained.Id, drained => drained.Gone ? WaitState.Done : WaitState.Waiting, drainTimeout.Value, cancellation);
            foreach (var id in waited.TimedOut)
            {
                var server = leaving[id];
                _reporter.Warning($"{server.Name} ({server.Id}) of {server.Farm}/{server.Alias} was still draining after {drainTimeout}; it was left running, deregistered. The next Invoke-TtmRecycle terminates it.");
            }
            var stillDraining = new HashSet<string>(waited.TimedOut, StringComparer.Ordinal);
            return servers.Where(s => !stillDraining.Contains(s.Id)).ToList();
        }
    }
}

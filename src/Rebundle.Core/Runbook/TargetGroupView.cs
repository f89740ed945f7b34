using Rebundle.Backends;
using Rebundle.Domain;

namespace Rebundle.Runbook
{
    /// <summary>
    /// What a recycle sees of its farm roles' load balancers in one poll round: every target group
    /// they name, read once (one read per target group, however many servers are in flight), and
    /// the register and deregister calls, one per target group and farm role. A backend without
    /// load balancing (or a farm role naming no target group) leaves every farm role unbalanced:
    /// a replacement then counts once it runs, as before.
    /// </summary>
    internal sealed class TargetGroupView
    {
        private readonly ILoadBalancing? _balancing;
        private readonly CancellationToken _cancellation;
        private Dictionary<string, TargetGroupState> _groups = new Dictionary<string, TargetGroupState>(StringComparer.Ordinal);

        public TargetGroupView(IFleetBackend backend, CancellationToken cancellation)
        {
            _balancing = backend.Capability<ILoadBalancing>();
            _cancellation = cancellation;
        }

        public bool IsBalanced(FarmRole? farmRole) => _balancing != null && farmRole != null && farmRole.IsLoadBalanced;

        /// <summary>Reads every target group of these farm roles, once each.</summary>
        public void Read(IEnumerable<FarmRole> farmRoles, CancellationToken? cancellation = null)
        {
            var names = farmRoles.Where(IsBalanced).SelectMany(r => r.TargetGroups).Distinct(StringComparer.Ordinal).ToList();
            _groups = names.Count == 0 ? new Dictionary<string, TargetGroupState>(StringComparer.Ordinal)
                : _balancing!.ReadTargetGroups(names, cancellation ?? _cancellation).ToDictionary(g => g.Name, StringComparer.Ordinal);
        }

        public IEnumerable<TargetHealth> HealthIn(FarmRole farmRole, string serverId) =>
            farmRole.TargetGroups.Select(name => _groups.TryGetValue(name, out var group) ? group.HealthOf(serverId) : TargetHealth.Unused);

        public bool HealthyEverywhere(FarmRole farmRole, string serverId) => HealthIn(farmRole, serverId).All(h => h == TargetHealth.Healthy);

        public bool UnhealthyAnywhere(FarmRole farmRole, string serverId) => HealthIn(farmRole, serverId).Any(h => h == TargetHealth.Unhealthy);

        /// <summary>Neither registered nor draining in any of its target groups: safe to terminate.</summary>
        public bool Gone(FarmRole farmRole, string serverId) => HealthIn(farmRole, serverId).All(h => h == TargetHealth.Unused);

        /// <summary>The farm role's servers healthy in every one of its target groups.</summary>
        public int HealthyCount(FarmRole farmRole, IEnumerable<string> serverIds) => serverIds.Count(id => HealthyEverywhere(farmRole, id));

        public void Register(FarmRole farmRole, IReadOnlyCollection<Server> servers, CancellationToken? cancellation = null)
        {
            if (servers.Count == 0) return;
            foreach (var name in farmRole.TargetGroups) _balancing!.RegisterTargets(farmRole, name, servers, cancellation ?? _cancellation);
        }

        public void Deregister(FarmRole farmRole, IReadOnlyCollection<Server> servers, CancellationToken? cancellation = null)
        {
            if (servers.Count == 0) return;
            foreach (var name in farmRole.TargetGroups) _balancing!.DeregisterTargets(farmRole, name, servers, cancellation ?? _cancellation);
        }
    }
}

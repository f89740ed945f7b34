using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Sandbox
{
    /// <summary>
    /// The Sandbox's load balancer, computed from timestamps like the rest of its physics, and
    /// behaving as an ALB target group does: a registered target is "initial" until it has booted
    /// and passed its checks for the health delay, then "healthy" (or "unhealthy" when
    /// -FailHealth names its farm role); a deregistered or terminated target is "draining" for
    /// the drain delay, then gone. Only running servers can be registered (EC2's InvalidTarget).
    /// </summary>
    internal sealed class SandboxLoadBalancing : ILoadBalancing
    {
        private readonly SandboxBackend _sandbox;

        public SandboxLoadBalancing(SandboxBackend sandbox) => _sandbox = sandbox;

        public IReadOnlyList<TargetGroupState> ReadTargetGroups(IReadOnlyCollection<string> targetGroups, CancellationToken cancellationToken = default) =>
            _sandbox.Read(cancellationToken, state =>
            {
                var now = _sandbox.Clock.UtcNow;
                return targetGroups.Select(name =>
                {
                    var group = Require(state, name);
                    var targets = new Dictionary<string, TargetHealth>(StringComparer.Ordinal);
                    foreach (var target in group.Targets)
                    {
                        var health = HealthOf(state, target, now);
                        if (health != TargetHealth.Unused) targets[target.ServerId] = health;
                    }
                    return new TargetGroupState { Name = group.Name, DeregistrationDelay = TimeSpan.FromSeconds(state.Simulation.DrainSeconds), Targets = targets };
                }).ToList();
            });

        public void RegisterTargets(FarmRole farmRole, string targetGroup, IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default) =>
            _sandbox.Change(cancellationToken, state =>
            {
                var now = _sandbox.Clock.UtcNow;
                var group = Require(state, targetGroup);
                var records = servers.Select(s => state.Servers.FirstOrDefault(r => r.Id == s.Id)).ToList();
                var notRunning = servers.Zip(records, (s, r) => (s, r)).FirstOrDefault(p => p.r == null || SandboxSimulation.StatusOf(p.r, now) != ServerStatus.Running);
                if (notRunning.s != null)
                    throw new TtmException(TtmErrorCode.InvalidTarget,
                        $"Server {notRunning.s.Name} ({notRunning.s.Id}) is not running, so target group {targetGroup} cannot take it; nothing was registered.", notRunning.s.Name);
                foreach (var record in records) Register(state, group, record!, now);
                Prune(state, now);
                return true;
            });

        public void DeregisterTargets(FarmRole farmRole, string targetGroup, IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default) =>
            _sandbox.Change(cancellationToken, state =>
            {
                var now = _sandbox.Clock.UtcNow;
                var group = Require(state, targetGroup);
                var ids = new HashSet<string>(servers.Select(s => s.Id), StringComparer.Ordinal);
                foreach (var target in group.Targets.Where(t => ids.Contains(t.ServerId) && t.DeregisteredAt == null)) target.DeregisteredAt = now;
                Prune(state, now);
                return true;
            });

        /// <summary>Registers a server in every target group of its farm role (seeded, grown and respawned servers).</summary>
        public static void RegisterInFarmRole(SandboxState state, FarmRoleRecord farmRole, ServerRecord server, DateTimeOffset at)
        {
            foreach (var name in farmRole.TargetGroups)
                if (state.TargetGroups.FirstOrDefault(g => g.Name == name) is { } group) Register(state, group, server, at);
        }

        private static void Register(SandboxState state, TargetGroupRecord group, ServerRecord server, DateTimeOffset at)
        {
            // Registering a registered target changes nothing; one still draining is taken back, as ELBv2 does.
            var current = group.Targets.FirstOrDefault(t => t.ServerId == server.Id && t.DeregisteredAt == null);
            if (current != null) return;
            group.Targets.RemoveAll(t => t.ServerId == server.Id);
            group.Targets.Add(new TargetRecord { ServerId = server.Id, RegisteredAt = at });
        }

        private static TargetHealth HealthOf(SandboxState state, TargetRecord target, DateTimeOffset now)
        {
            var sim = state.Simulation;
            var drain = TimeSpan.FromSeconds(sim.DrainSeconds);
            var server = state.Servers.FirstOrDefault(s => s.Id == target.ServerId);
            var leftAt = target.DeregisteredAt;
            if (server?.TerminatedAt is { } terminated && terminated <= now && (leftAt == null || terminated < leftAt)) leftAt = terminated;
            if (server == null) return TargetHealth.Unused;
            if (leftAt != null) return now < leftAt.Value + drain ? TargetHealth.Draining : TargetHealth.Unused;
            var checkedFrom = server.BootedAt is { } booted && booted > target.RegisteredAt ? booted : target.RegisteredAt;
            if (server.BootedAt == null || now < checkedFrom + TimeSpan.FromSeconds(sim.HealthSeconds)) return TargetHealth.Initial;
            return server.BootFails || server.HealthFails ? TargetHealth.Unhealthy : TargetHealth.Healthy;
        }

        // Targets gone after draining are forgotten, so the file does not grow with every recycle.
        private static void Prune(SandboxState state, DateTimeOffset now)
        {
            foreach (var group in state.TargetGroups) group.Targets.RemoveAll(t => HealthOf(state, t, now) == TargetHealth.Unused);
        }

        private static TargetGroupRecord Require(SandboxState state, string name) =>
            state.TargetGroups.FirstOrDefault(g => string.Equals(g.Name, name, StringComparison.Ordinal))
            ?? throw new TtmException(TtmErrorCode.TargetGroupNotFound,
                $"There is no target group '{name}' in the Sandbox. It has: {string.Join(", ", state.TargetGroups.Select(g => g.Name))}.", name);
    }
}

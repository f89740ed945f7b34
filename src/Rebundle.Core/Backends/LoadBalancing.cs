using Rebundle.Domain;

namespace Rebundle.Backends
{
    /// <summary>
    /// A backend whose farm roles can serve through load balancer target groups
    /// (<see cref="FarmRole.TargetGroups"/>): an ALB/NLB target group on AWS, a simulated one in
    /// the Sandbox. A recycle registers each replacement, counts it only once it is healthy in every
    /// target group, and deregisters an old server and waits for it to drain before terminating it.
    /// Registering and deregistering change what serves traffic, so the audit wrapper hands this
    /// capability out only guarded, leased and audited.
    /// </summary>
    public interface ILoadBalancing
    {
        /// <summary>
        /// The named target groups as they are now: each one's targets and their health, and its
        /// deregistration delay. One read per target group (AWS: one DescribeTargetHealth), whatever
        /// the number of targets. An unknown name is a TtmTargetGroupNotFound error.
        /// </summary>
        IReadOnlyList<TargetGroupState> ReadTargetGroups(IReadOnlyCollection<string> targetGroups, CancellationToken cancellationToken = default);

        /// <summary>Registers the servers (by id) in the farm role's target group; registering one already registered changes nothing.</summary>
        void RegisterTargets(FarmRole farmRole, string targetGroup, IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default);

        /// <summary>Deregisters the servers from the target group: they drain for its deregistration delay, then are gone. Deregistering one not registered changes nothing.</summary>
        void DeregisterTargets(FarmRole farmRole, string targetGroup, IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default);
    }

    /// <summary>One target group as read: its targets by server id, and how long a deregistered target drains.</summary>
    public sealed record TargetGroupState
    {
        /// <summary>The name the farm role gives it (<see cref="FarmRole.TargetGroups"/>).</summary>
        public string Name { get; init; } = "";

        public TimeSpan DeregistrationDelay { get; init; }

        /// <summary>Every registered (or still draining) target, by server id. A server not in it is not registered.</summary>
        public IReadOnlyDictionary<string, TargetHealth> Targets { get; init; } = new Dictionary<string, TargetHealth>(StringComparer.Ordinal);

        public TargetHealth HealthOf(string serverId) => Targets.TryGetValue(serverId, out var health) ? health : TargetHealth.Unused;
    }

    /// <summary>A target's state in its target group, as ELBv2 names them.</summary>
    public enum TargetHealth
    {
        /// <summary>Not registered (or gone after draining).</summary>
        Unused,

        /// <summary>Registered; its first health checks have not passed yet.</summary>
        Initial,

        Healthy,

        Unhealthy,

        /// <summary>Deregistered (or terminated while registered): finishing in-flight requests for the deregistration delay.</summary>
        Draining,

        /// <summary>Health checks are off or the target is in an Availability Zone the load balancer does not serve.</summary>
        Unavailable,
    }
}

namespace Rebundle.Domain
{
    /// <summary>
    /// A role placed in a farm under an alias; the farm keeps <see cref="DesiredCount"/>
    /// servers of it running. On the staging farm the alias names the role being built
    /// (<c>RailsAppServer</c>) while the role it runs is the base role (<c>TTM-Base</c>).
    /// </summary>
    public sealed record FarmRole
    {
        public string Farm { get; init; } = "";

        public string FarmId { get; init; } = "";

        public string Alias { get; init; } = "";

        /// <summary>The role the farm role runs (its servers launch from this role's image).</summary>
        public string Role { get; init; } = "";

        public int DesiredCount { get; init; }

        /// <summary>The backend's id of the farm role.</summary>
        public string Id { get; init; } = "";

        /// <summary>The Chef role its servers bootstrap with, from the name tables.</summary>
        public string? ChefRole { get; init; }

        /// <summary>
        /// The load balancer target groups its servers serve from (AWS: the <c>ttm:target-groups</c>
        /// tag, names separated by commas). Empty: the farm role serves no load balancer, and a
        /// replacement counts once it runs.
        /// </summary>
        public IReadOnlyList<string> TargetGroups { get; init; } = Array.Empty<string>();

        public bool IsLoadBalanced => TargetGroups.Count > 0;

        /// <summary>
        /// The Auto Scaling group that is this farm role (AWS: the <c>ttm:auto-scaling-group</c> tag
        /// on its farm-role template), null for a farm role of plain servers. Its count is the
        /// group's desired capacity; a recycle launches by raising it and terminates through the
        /// group (<see cref="Backends.IScalingGroups"/>).
        /// </summary>
        public string? ScalingGroup { get; init; }

        public bool IsScalingGroup => !string.IsNullOrEmpty(ScalingGroup);

        /// <summary>
        /// The target groups attached to the <see cref="ScalingGroup"/>: the group registers its new
        /// servers there itself, and a server terminated through the group is drained from them
        /// before it goes (AWS deregisters first). Empty for plain farm roles.
        /// </summary>
        public IReadOnlyList<string> GroupDrainedTargetGroups { get; init; } = Array.Empty<string>();

        /// <summary>
        /// The group drains every target group of this farm role: terminating one of its servers
        /// through the group is safe at once, without Rebundle's own deregister and wait.
        /// </summary>
        public bool DrainsThroughGroup => IsScalingGroup && TargetGroups.All(t => GroupDrainedTargetGroups.Contains(t, StringComparer.Ordinal));

        /// <summary>
        /// A recycle changed the group for its duration (max raised, processes suspended) and was
        /// stopped before it put it back: the group carries the record of what to restore, and
        /// the next recycle of this farm restores it. <see cref="DesiredCount"/> is the recorded count.
        /// </summary>
        public bool ScalingHeld { get; init; }

        public override string ToString() => Farm + "/" + Alias;
    }
}

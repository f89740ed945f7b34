using Rebundle.Domain;

namespace Rebundle.Backends
{
    /// <summary>
    /// A backend that can bring a fleet made without Rebundle under it: a role from an image or
    /// an existing launch template, and a farm role from an Auto Scaling group or from servers
    /// chosen by id or tag (AWS: New-TtmRole, New-TtmFarmRole). After it the runbook works on
    /// that fleet as on one Rebundle made. Each call changes the fleet (templates made, tags
    /// written), so the audit wrapper hands this out only guarded, leased and audited.
    /// </summary>
    public interface IFleetIntake
    {
        /// <summary>What <see cref="NewFarmRole"/> would bring in, read and changing nothing: the servers a tag selects, the group's count and target groups.</summary>
        IntakePreview PreviewFarmRole(FarmRoleIntake request, CancellationToken cancellationToken = default);

        Role NewRole(RoleIntake request, CancellationToken cancellationToken = default);

        FarmRole NewFarmRole(FarmRoleIntake request, CancellationToken cancellationToken = default);
    }

    /// <summary>A role to make: from an image (with an instance type), or as a copy of an existing launch template's default version.</summary>
    public sealed record RoleIntake
    {
        public string Name { get; init; } = "";

        public string? ImageId { get; init; }

        public string? InstanceType { get; init; }

        /// <summary>An existing launch template (name or id) whose default version's settings the role takes.</summary>
        public string? LaunchTemplate { get; init; }
    }

    /// <summary>A farm role to make from what runs: an Auto Scaling group, or servers by id or tag.</summary>
    public sealed record FarmRoleIntake
    {
        public string Farm { get; init; } = "";

        public string Alias { get; init; } = "";

        /// <summary>The role its servers launch from (made first with New-TtmRole when it is new).</summary>
        public string Role { get; init; } = "";

        public string? AutoScalingGroup { get; init; }

        /// <summary>The servers it takes in (by id), when it is not a group.</summary>
        public IReadOnlyList<string> InstanceIds { get; init; } = Array.Empty<string>();

        /// <summary>Servers chosen by tag (key → value), resolved to <see cref="InstanceIds"/> by <see cref="IFleetIntake.PreviewFarmRole"/>.</summary>
        public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

        /// <summary>Its count; null: as many as it takes in (a group: its desired capacity, always).</summary>
        public int? Count { get; init; }

        /// <summary>The target groups its servers serve from; null: a group's own, none for servers.</summary>
        public IReadOnlyList<string>? TargetGroups { get; init; }
    }

    /// <summary>What a farm role intake comes to before anything is changed.</summary>
    public sealed record IntakePreview
    {
        public IReadOnlyList<string> InstanceIds { get; init; } = Array.Empty<string>();

        public int Count { get; init; }

        public IReadOnlyList<string> TargetGroups { get; init; } = Array.Empty<string>();

        /// <summary>The resolved request: instances by id, count and target groups filled in, ready for NewFarmRole.</summary>
        public FarmRoleIntake Request { get; init; } = new FarmRoleIntake();
    }
}

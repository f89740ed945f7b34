namespace Rebundle.Reporting
{
    /// <summary>
    /// The fleet at one moment, as Get-TtmFleetReport shows it: one row per farm role and one per
    /// role version, read from <see cref="Backend"/> at <see cref="TakenAt"/> (the backend's clock).
    /// </summary>
    public sealed record FleetReport(
        DateTimeOffset TakenAt,
        string Backend,
        string Location,
        IReadOnlyList<FarmRoleReport> FarmRoles,
        IReadOnlyList<RoleVersionReport> RoleVersions);

    /// <summary>One farm role: what it runs, how old that image is, and which of its servers need a recycle.</summary>
    public sealed record FarmRoleReport
    {
        public string Farm { get; init; } = "";

        public string Alias { get; init; } = "";

        /// <summary>The role the farm role runs.</summary>
        public string Role { get; init; } = "";

        /// <summary>
        /// The role's version: its own for a versioned role, else the newest version whose image the
        /// production role carries; null when neither (the base role before its first version).
        /// </summary>
        public string? Version { get; init; }

        /// <summary>The image the role launches servers from now; null when the role is gone.</summary>
        public string? ImageId { get; init; }

        /// <summary>Whole days since that image was made; null when the backend does not say.</summary>
        public int? ImageAgeDays { get; init; }

        /// <summary>Servers the farm role keeps running.</summary>
        public int Wanted { get; init; }

        /// <summary>Its servers that are running now.</summary>
        public int Running { get; init; }

        /// <summary>The load balancer target groups it serves from; empty when none.</summary>
        public IReadOnlyList<string> TargetGroups { get; init; } = Array.Empty<string>();

        /// <summary>Behind a load balancer: its servers healthy in every target group (what serves). Null when it has none, or they could not be read (<see cref="HealthUnknown"/>).</summary>
        public int? Healthy { get; init; }

        /// <summary>Why <see cref="Healthy"/> is unknown for a load-balanced farm role (the read's error).</summary>
        public string? HealthUnknown { get; init; }

        /// <summary>Live servers whose image differs from the role's current image: they need a recycle.</summary>
        public IReadOnlyList<string> DriftedServers { get; init; } = Array.Empty<string>();

        public int Drift => DriftedServers.Count;

        /// <summary>The newest version of the role's base name; null when it has none.</summary>
        public string? LatestVersion { get; init; }

        /// <summary>Whether the farm role runs its base role's newest version (true when there is no version yet).</summary>
        public bool IsLatest { get; init; }

        /// <summary>
        /// The version the test farm (Dev) runs when it is newer than the one whose image the
        /// production role carries: tried, not yet promoted (runbook step 7). Null otherwise.
        /// </summary>
        public string? PendingPromotion { get; init; }

        public override string ToString() => Farm + "/" + Alias;
    }

    /// <summary>One versioned role: where it runs, how old its image is, and whether Remove-TtmRoleVersion may retire it.</summary>
    public sealed record RoleVersionReport
    {
        public string Role { get; init; } = "";

        public string BaseName { get; init; } = "";

        public string Version { get; init; } = "";

        public string ImageId { get; init; } = "";

        public DateTimeOffset? ImageCreatedAt { get; init; }

        public int? ImageAgeDays { get; init; }

        /// <summary>Farms with a farm role that runs this version.</summary>
        public IReadOnlyList<string> Farms { get; init; } = Array.Empty<string>();

        /// <summary>Production roles that carry this version's image (promoted into them).</summary>
        public IReadOnlyList<string> CarriedBy { get; init; } = Array.Empty<string>();

        public bool IsLatest { get; init; }

        /// <summary>What Remove-TtmRoleVersion -KeepLatest 1 would do: retire it (true) or keep it.</summary>
        public bool SafeToRetire { get; init; }

        /// <summary>Why it is kept, when it is: a farm role runs it, a recent rebundle's undo needs it, it is the newest.</summary>
        public string? KeptBecause { get; init; }

        public override string ToString() => Role;
    }
}

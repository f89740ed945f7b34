using Rebundle.Domain;

namespace Rebundle.Runbook
{
    /// <summary>A role's latest version and the one its next snapshot gets.</summary>
    public sealed record NextRoleVersion
    {
        public string Role { get; init; } = "";

        /// <summary>The highest existing version, or null when the role has none.</summary>
        public RoleVersion? LatestVersion { get; init; }

        public RoleVersion NextVersion { get; init; } = RoleVersion.Initial;

        /// <summary>The name the next versioned role gets, e.g. RailsAppServer-1-7.</summary>
        public string NextRoleName => Role + "-" + NextVersion;

        public static NextRoleVersion For(RoleCatalog catalog, string baseName, bool major) => new NextRoleVersion
        {
            Role = baseName,
            LatestVersion = catalog.LatestOf(baseName)?.Version,
            NextVersion = catalog.NextVersion(baseName, major),
        };

        public override string ToString() => NextVersion.ToString();
    }
}

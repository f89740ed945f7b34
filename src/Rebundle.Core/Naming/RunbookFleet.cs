namespace Rebundle.Naming
{
    /// <summary>
    /// The runbook's fleet as plain data, described once: the Sandbox starts from it, and the
    /// loopback EC2 endpoint and loopback Scalr translate it into instances, tags and launch
    /// templates, or farms, roles and images. So the three fleets agree by construction, and a
    /// test that passes on one seed means the same on the others.
    ///
    /// Farms Staging/Dev/Production (names from the <see cref="NameTables"/>); the base role and
    /// every production role, each production role with a versioned twin at 1-6 on the same image
    /// (named after the versioned role); Staging runs the base role under six aliases, Dev and
    /// Production run the production roles, Production's RailsAppServer twice. Every server has
    /// been running for <see cref="Age"/>.
    /// </summary>
    public sealed class RunbookFleet
    {
        /// <summary>How long before "now" the seeded fleet was made: its images, roles and servers.</summary>
        public static readonly TimeSpan Age = TimeSpan.FromDays(30);

        /// <summary>The version every production role starts at.</summary>
        public const string FirstVersion = "1-6";

        private static readonly string[] StagingAliases = { "RailsAppServer", "NodeAppServer", "Sidekiq", "DevDebug", "SystemWatcher" };

        /// <summary>The farm roles that serve web traffic through a load balancer target group.</summary>
        public static readonly IReadOnlyCollection<string> LoadBalancedAliases = new[] { "RailsAppServer", "NodeAppServer" };

        private static readonly string[] FarmAliases = { "RailsAppServer", "NodeAppServer", "Sidekiq", "Reports", "DevDebug", "SystemWatcher" };

        private RunbookFleet(IReadOnlyList<SeedRole> roles, IReadOnlyList<SeedFarm> farms)
        {
            Roles = roles;
            Farms = farms;
        }

        /// <summary>The runbook's fleet with the default names (what the loopback fakes serve).</summary>
        public static RunbookFleet Default { get; } = From(NameTables.Default);

        /// <summary>
        /// Roles in the order they are made: the base role, then each production role followed by
        /// its versioned twin. An image is made just before the first role that uses it.
        /// </summary>
        public IReadOnlyList<SeedRole> Roles { get; }

        /// <summary>Images by name, in the order they are made (each once).</summary>
        public IReadOnlyList<string> Images => Roles.Select(r => r.Image).Distinct().ToList();

        /// <summary>Farms in the order they are made: Staging, Dev, Production.</summary>
        public IReadOnlyList<SeedFarm> Farms { get; }

        /// <summary>Every server the fleet starts with: one per farm role count, numbered from 1.</summary>
        public IEnumerable<SeedServer> Servers =>
            from farm in Farms
            from farmRole in farm.FarmRoles
            from index in Enumerable.Range(1, farmRole.Count)
            select new SeedServer(farm.Name, farmRole.Alias, farmRole.Role, index, ImageOf(farmRole.Role));

        /// <summary>The image name a role launches from.</summary>
        public string ImageOf(string role) => Roles.First(r => r.Name == role).Image;

        public static RunbookFleet From(NameTables names)
        {
            var roles = new List<SeedRole> { new SeedRole(names.BaseRole, names.BaseRole) };
            foreach (var role in names.ProductionRoles)
            {
                var versioned = role + "-" + FirstVersion;
                roles.Add(new SeedRole(role, versioned));
                roles.Add(new SeedRole(versioned, versioned));
            }

            // Dev and Production only get farm roles for roles the tables know, so a configuration
            // with other production roles still seeds a fleet that makes sense.
            var known = new HashSet<string>(names.ProductionRoles, StringComparer.Ordinal);
            // The web roles serve through a load balancer: one target group per farm and web role,
            // named the way an operator names them (production-railsappserver).
            SeedFarmRole[] Production(string farm, Func<string, int> count) =>
                FarmAliases.Where(known.Contains).Select(a => new SeedFarmRole(a, a, count(a))
                {
                    TargetGroups = LoadBalancedAliases.Contains(a) ? new[] { (farm + "-" + a).ToLowerInvariant() } : Array.Empty<string>(),
                }).ToArray();

            var farms = new[]
            {
                new SeedFarm(names.StagingFarm, new[] { names.BaseRole }.Concat(StagingAliases).Select(a => new SeedFarmRole(a, names.BaseRole, 1)).ToArray()),
                new SeedFarm(names.TestFarm, Production(names.TestFarm, _ => 1)),
                new SeedFarm(names.ProductionFarm, Production(names.ProductionFarm, a => a == "RailsAppServer" ? 2 : 1)),
            };
            return new RunbookFleet(roles, farms);
        }
    }

    /// <summary>A seeded role and the name of the image it launches from.</summary>
    public sealed record SeedRole(string Name, string Image);

    /// <summary>A seeded farm and its farm roles, in the order they are made.</summary>
    public sealed record SeedFarm(string Name, IReadOnlyList<SeedFarmRole> FarmRoles);

    /// <summary>A seeded farm role: its alias, the role it runs and how many servers.</summary>
    public sealed record SeedFarmRole(string Alias, string Role, int Count)
    {
        /// <summary>The load balancer target groups it serves from (Dev and Production web roles); empty: none.</summary>
        public IReadOnlyList<string> TargetGroups { get; init; } = Array.Empty<string>();
    }

    /// <summary>A seeded server: where it runs, its number in the farm role, and its image's name.</summary>
    public sealed record SeedServer(string Farm, string Alias, string Role, int Index, string Image);
}

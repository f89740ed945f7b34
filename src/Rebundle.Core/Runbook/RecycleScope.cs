using Rebundle.Domain;

namespace Rebundle.Runbook
{
    /// <summary>
    /// One thing the operator asked to recycle: farms (wildcards allowed), optionally narrowed
    /// to farm-role aliases, or one server.
    /// </summary>
    public sealed record RecycleTarget
    {
        public IReadOnlyList<string> Farms { get; init; } = Array.Empty<string>();

        /// <summary>Only these aliases of <see cref="Farms"/>; null for every farm role.</summary>
        public IReadOnlyCollection<string>? Aliases { get; init; }

        /// <summary>Exactly this server (as piped), instead of farms and aliases.</summary>
        public Server? Server { get; init; }
    }

    /// <summary>
    /// What one recycle covers, in the order it was typed or piped. Farms are recycled in the
    /// order they first appear; within a farm only the servers the targets name are replaced,
    /// so piping two servers never recycles a third.
    /// </summary>
    public sealed class RecycleScope
    {
        private readonly List<RecycleTarget> _targets = new List<RecycleTarget>();

        public IReadOnlyList<RecycleTarget> Targets => _targets;

        /// <summary>When resuming: of the servers in scope, only these (those not yet replaced).</summary>
        public IReadOnlyCollection<string>? OnlyServerIds { get; private set; }

        public static RecycleScope Of(IReadOnlyCollection<string> farms, IReadOnlyCollection<string>? aliases = null) =>
            new RecycleScope().AddFarms(farms, aliases);

        public RecycleScope AddFarms(IReadOnlyCollection<string> farms, IReadOnlyCollection<string>? aliases = null)
        {
            _targets.Add(new RecycleTarget { Farms = farms.ToList(), Aliases = aliases == null || aliases.Count == 0 ? null : aliases.ToList() });
            return this;
        }

        public RecycleScope AddFarmRole(string farm, string alias) => AddFarms(new[] { farm }, new[] { alias });

        public RecycleScope AddServer(Server server)
        {
            _targets.Add(new RecycleTarget { Farms = new[] { server.Farm }, Server = server });
            return this;
        }

        public RecycleScope OnlyServers(IReadOnlyCollection<string>? ids)
        {
            OnlyServerIds = ids;
            return this;
        }
    }
}

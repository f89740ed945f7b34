using Rebundle.Domain;

namespace Rebundle.Runbook
{
    /// <summary>
    /// A live server beyond its farm role's count, found when the recycle reconciled the farm
    /// role (most often a replacement launched by a run that was killed). It either stands in
    /// for one old server (<see cref="Replaces"/>) or is terminated once the count is met.
    /// </summary>
    public sealed record SurplusServer
    {
        public Server Server { get; init; } = new Server();

        /// <summary>The old server it replaces instead of a new launch; null when it is to be terminated.</summary>
        public Server? Replaces { get; init; }
    }

    /// <summary>The servers of one farm to replace, in batches of at most BatchSize, and its surplus.</summary>
    public sealed record RecyclePlan
    {
        public string Farm { get; init; } = "";

        public IReadOnlyList<IReadOnlyList<Server>> Batches { get; init; } = Array.Empty<IReadOnlyList<Server>>();

        public IReadOnlyList<SurplusServer> Surplus { get; init; } = Array.Empty<SurplusServer>();

        /// <summary>Most replacements in flight at once (the window); 0 for a plan made without it: its largest batch.</summary>
        public int BatchSize { get; init; }

        public int ServerCount => Batches.Sum(b => b.Count);

        /// <summary>
        /// The farm's farm roles as the plan read them, which the recycle launches into (each
        /// launch checks its farm role again: that it still exists, and the role it runs now).
        /// </summary>
        public IReadOnlyList<FarmRole> FarmRoles { get; init; } = Array.Empty<FarmRole>();

        /// <summary>Plans up to this many servers name each one; larger ones summarise (<see cref="FullDescription"/> names all).</summary>
        public const int ListedInFull = 12;

        /// <summary>For -WhatIf and confirmation: every server of a small plan; for a large one, counts per farm role and the first few names.</summary>
        public string Description => ServerCount <= ListedInFull ? FullDescription : Summary;

        /// <summary>Every server and surplus by name, for -Verbose.</summary>
        public string FullDescription => Opening + ": " + string.Join(", ", Olds.Select(s => s.Name)) + SurplusText(int.MaxValue);

        private IEnumerable<Server> Olds => Batches.SelectMany(b => b);

        private string Opening =>
            $"Replace {ServerCount} server(s) of farm {Farm} in {Batches.Count} batch(es) of at most {(Batches.Count == 0 ? 0 : Batches.Max(b => b.Count))}";

        private string Summary
        {
            get
            {
                var perFarmRole = Olds.GroupBy(s => s.Alias, StringComparer.OrdinalIgnoreCase).Select(g => $"{g.Key} {g.Count()}");
                const int first = 5;
                return Opening + " (" + string.Join(", ", perFarmRole) + "), first " +
                       string.Join(", ", Olds.Take(first).Select(s => s.Name)) + $" and {ServerCount - first} more" + SurplusText(first) +
                       ". -Verbose lists every server.";
            }
        }

        private string SurplusText(int names)
        {
            string Named(IReadOnlyList<string> all) => string.Join(", ", all.Take(names)) + (all.Count > names ? $" and {all.Count - names} more" : "");
            var uses = Surplus.Where(s => s.Replaces != null).Select(s => $"{s.Server.Name} ({s.Server.Id}) for {s.Replaces!.Name}").ToList();
            var trims = Surplus.Where(s => s.Replaces == null).Select(s => $"{s.Server.Name} ({s.Server.Id})").ToList();
            var text = "";
            if (uses.Count > 0) text += "; use surplus " + Named(uses) + " instead of launching";
            if (trims.Count > 0) text += "; terminate surplus " + Named(trims) + " once its farm role has its count running";
            return text;
        }
    }

    /// <summary>One server replaced: the old one (now terminated) and the new one (running).</summary>
    public sealed record RecycledServer
    {
        public string Farm { get; init; } = "";

        public string Alias { get; init; } = "";

        public string OldServer { get; init; } = "";

        public string OldId { get; init; } = "";

        public string NewServer { get; init; } = "";

        public string NewId { get; init; } = "";

        public string Role { get; init; } = "";

        public string ImageId { get; init; } = "";

        public TimeSpan Duration { get; init; }
    }
}

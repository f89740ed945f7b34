namespace Rebundle.Rebundling
{
    /// <summary>
    /// A rebundle's plan as an object, for a script to keep or post to a change ticket
    /// (<c>Invoke-TtmRebundle -WhatIf -PassThru</c>): the steps as printed, and the same facts as data.
    /// </summary>
    public sealed record RebundlePlanReport
    {
        /// <summary>The journal the run writes (or, when resuming, continues).</summary>
        public string Journal { get; init; } = "";

        public bool IsResume { get; init; }

        public string StagingFarm { get; init; } = "";

        public string TestFarm { get; init; } = "";

        public string ProductionFarm { get; init; } = "";

        /// <summary>The plan's lines, exactly as Invoke-TtmRebundle prints them.</summary>
        public IReadOnlyList<string> Steps { get; init; } = Array.Empty<string>();

        /// <summary>The base role's snapshot image (step 1); empty when there is no base step.</summary>
        public string BaseImageName { get; init; } = "";

        /// <summary>Staging alias → the versioned role its snapshot becomes (step 5).</summary>
        public IReadOnlyDictionary<string, string> Snapshots { get; init; } = new Dictionary<string, string>();

        /// <summary>Test-farm aliases that take the new versions (step 6).</summary>
        public IReadOnlyList<string> TestSwaps { get; init; } = Array.Empty<string>();

        /// <summary>Production roles that take the new images after the gate (step 7).</summary>
        public IReadOnlyList<string> Promotions { get; init; } = Array.Empty<string>();

        /// <summary>Servers per farm when the plan was made; each is recycled.</summary>
        public IReadOnlyDictionary<string, int> Servers { get; init; } = new Dictionary<string, int>();

        public int BatchSize { get; init; }

        public bool SkipOsUpdate { get; init; }

        public bool Verify { get; init; }

        public bool Major { get; init; }

        public IReadOnlyList<string> Packages { get; init; } = Array.Empty<string>();

        public static RebundlePlanReport For(RebundlePlan plan, IReadOnlyDictionary<string, int> serversPerFarm, string journal, bool isResume) => new RebundlePlanReport
        {
            Journal = journal,
            IsResume = isResume,
            StagingFarm = plan.StagingFarm,
            TestFarm = plan.TestFarm,
            ProductionFarm = plan.ProductionFarm,
            Steps = plan.Describe(serversPerFarm),
            BaseImageName = plan.BaseImageName,
            Snapshots = plan.Snapshots,
            TestSwaps = plan.TestSwaps,
            Promotions = plan.Promotions,
            Servers = new[] { plan.StagingFarm, plan.TestFarm, plan.ProductionFarm }
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .ToDictionary(f => f, f => serversPerFarm.TryGetValue(f, out var n) ? n : 0, StringComparer.OrdinalIgnoreCase),
            BatchSize = plan.BatchSize,
            SkipOsUpdate = plan.SkipOsUpdate,
            Verify = plan.Verify,
            Major = plan.Major,
            Packages = plan.Packages,
        };

        /// <summary>The header and steps as printed: paste-ready text for a ticket.</summary>
        public override string ToString() =>
            (IsResume ? $"Resuming the rebundle in {Journal}:" : $"Rebundle plan (journal: {Journal}):") + Environment.NewLine +
            string.Join(Environment.NewLine, Steps.Select(s => "  " + s));
    }
}

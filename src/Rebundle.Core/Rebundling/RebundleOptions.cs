namespace Rebundle.Rebundling
{
    /// <summary>What Invoke-TtmRebundle was asked to do.</summary>
    public sealed record RebundleOptions
    {
        public string StagingFarm { get; init; } = "Rebundle-Staging";

        public string TestFarm { get; init; } = "Dev";

        public string ProductionFarm { get; init; } = "Production";

        /// <summary>Roles (staging aliases) to rebuild; null: every staging alias but the base role.</summary>
        public IReadOnlyList<string>? Roles { get; init; }

        public bool Major { get; init; }

        public IReadOnlyList<string> Packages { get; init; } = Array.Empty<string>();

        public bool SkipOsUpdate { get; init; }

        /// <summary>Check the staging and test servers (over SSH) before snapshot and before the gate.</summary>
        public bool Verify { get; init; }

        public int BatchSize { get; init; } = 1;

        public bool ApproveProduction { get; init; }

        /// <summary>How long any one wait (an image, a batch of replacements) may take.</summary>
        public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(30);
    }
}

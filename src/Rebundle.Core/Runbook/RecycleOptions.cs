namespace Rebundle.Runbook
{
    /// <summary>How a recycle runs its plans.</summary>
    public sealed record RecycleOptions
    {
        /// <summary>How long one replacement may take to run, from its launch.</summary>
        public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(15);

        /// <summary>
        /// How long a replacement behind a load balancer may be "unhealthy" after it registered
        /// before it fails (an application still warming up fails its first checks). Within the
        /// <see cref="Timeout"/> either way.
        /// </summary>
        public TimeSpan HealthGrace { get; init; } = TimeSpan.FromMinutes(1);

        /// <summary>
        /// Farms side by side, each with its own window, instead of one after another in the
        /// order given. A failure in one farm stops new launches in all.
        /// </summary>
        public bool SideBySide { get; init; }

        /// <summary>
        /// The old way, kept for comparison (build.ps1 bench): a batch waits for its slowest
        /// replacement before the next starts, instead of refilling the window as each finishes.
        /// </summary>
        public bool Lockstep { get; init; }
    }
}

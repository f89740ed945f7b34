namespace Rebundle.Runbook
{
    /// <summary>How a waited-for object stands at one poll.</summary>
    public enum WaitState
    {
        Waiting,
        Done,
        Failed,
    }

    /// <summary>What a wait ended with: which objects got there, failed, or ran out of time.</summary>
    public sealed class WaitResult<T>
    {
        public IReadOnlyList<T> Done { get; init; } = Array.Empty<T>();

        public IReadOnlyList<T> Failed { get; init; } = Array.Empty<T>();

        /// <summary>Ids still waiting when the timeout struck (last seen state in <see cref="Waiting"/>).</summary>
        public IReadOnlyList<string> TimedOut { get; init; } = Array.Empty<string>();

        public IReadOnlyList<T> Waiting { get; init; } = Array.Empty<T>();

        public bool AllDone => Failed.Count == 0 && TimedOut.Count == 0;
    }

    /// <summary>
    /// Waits for many objects at once with one batched poll per round (never one call per
    /// object), a timeout that always applies, progress, and cancellation.
    /// </summary>
    public sealed class Waiter
    {
        private readonly IClock _clock;
        private readonly TimeSpan _pollInterval;
        private readonly TimeSpan? _longestPollInterval;
        private readonly IRunbookReporter _reporter;

        /// <param name="longestPollInterval">When longer than <paramref name="pollInterval"/>, the pause grows by half each round up to it (IPollBackoff).</param>
        public Waiter(IClock clock, TimeSpan pollInterval, IRunbookReporter reporter, TimeSpan? longestPollInterval = null)
        {
            _clock = clock;
            _pollInterval = pollInterval;
            _longestPollInterval = longestPollInterval;
            _reporter = reporter;
        }

        /// <param name="activity">Progress activity, e.g. "Waiting for images".</param>
        /// <param name="ids">What to wait for.</param>
        /// <param name="poll">Reads the current state of the given ids in one batch.</param>
        public WaitResult<T> WaitForAll<T>(
            int activityId,
            string activity,
            IReadOnlyCollection<string> ids,
            Func<IReadOnlyCollection<string>, IReadOnlyList<T>> poll,
            Func<T, string> idOf,
            Func<T, WaitState> stateOf,
            TimeSpan timeout,
            CancellationToken cancellation)
        {
            var deadline = _clock.UtcNow + timeout;
            var pending = new HashSet<string>(ids, StringComparer.Ordinal);
            var done = new List<T>();
            var failed = new List<T>();
            var lastSeen = new Dictionary<string, T>(StringComparer.Ordinal);
            var total = pending.Count;
            var schedule = new PollSchedule(_pollInterval, _longestPollInterval);
            try
            {
                while (pending.Count > 0)
                {
                    cancellation.ThrowIfCancellationRequested();
                    foreach (var item in poll(pending.ToList()))
                    {
                        var id = idOf(item);
                        if (!pending.Contains(id)) continue;
                        lastSeen[id] = item;
                        var state = stateOf(item);
                        if (state == WaitState.Waiting) continue;
                        pending.Remove(id);
                        (state == WaitState.Done ? done : failed).Add(item);
                    }

                    if (pending.Count == 0) break;
                    var left = deadline - _clock.UtcNow;
                    var finished = total - pending.Count;
                    _reporter.Progress(new ProgressReport(activityId, activity,
                        $"{finished} of {total} ready; {pending.Count} waiting, {Math.Max(0, (int)left.TotalSeconds)}s left before timeout",
                        total == 0 ? -1 : finished * 100 / total));
                    if (left <= TimeSpan.Zero) break;
                    _clock.Sleep(schedule.PauseWithin(left), cancellation);
                    schedule.Quiet(); // a wait's rounds grow by half whatever settled: images take minutes, not seconds
                }
            }
            finally
            {
                _reporter.Progress(new ProgressReport(activityId, activity, "Done", 100, Completed: true));
            }

            return new WaitResult<T>
            {
                Done = done,
                Failed = failed,
                TimedOut = pending.ToList(),
                Waiting = pending.Where(lastSeen.ContainsKey).Select(id => lastSeen[id]).ToList(),
            };
        }
    }
}

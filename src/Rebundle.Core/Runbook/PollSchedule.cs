namespace Rebundle.Runbook
{
    /// <summary>
    /// How long a wait pauses between polls: the backend's poll interval (50 ms when it gives
    /// none), growing by half each quiet round up to the longest a rate-limited backend asks for
    /// (IPollBackoff: Scalr), and never past the wait's deadline. The Waiter and the recycle's
    /// window both pause by it, so the backoff is written once.
    /// </summary>
    public sealed class PollSchedule
    {
        private readonly TimeSpan _first;
        private readonly TimeSpan _longest;

        public PollSchedule(TimeSpan pollInterval, TimeSpan? longestPollInterval)
        {
            _first = pollInterval > TimeSpan.Zero ? pollInterval : TimeSpan.FromMilliseconds(50);
            _longest = longestPollInterval > _first ? longestPollInterval.Value : _first;
            Interval = _first;
        }

        /// <summary>The pause before the next poll.</summary>
        public TimeSpan Interval { get; private set; }

        /// <summary>The pause before the next poll when <paramref name="left"/> remains before a deadline.</summary>
        public TimeSpan PauseWithin(TimeSpan left) => left <= TimeSpan.Zero ? TimeSpan.Zero : left < Interval ? left : Interval;

        /// <summary>After a poll that settled nothing: ask a little less often.</summary>
        public void Quiet() => Interval = TimeSpan.FromTicks(Math.Min(_longest.Ticks, Interval.Ticks + Interval.Ticks / 2));

        /// <summary>After a poll that settled something: back to the backend's own interval.</summary>
        public void Progressed() => Interval = _first;
    }
}

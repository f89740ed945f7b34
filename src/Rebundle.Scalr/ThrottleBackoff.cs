namespace Rebundle.Scalr
{
    /// <summary>
    /// The sleeps between retries of a request Scalr refused over its rate limit: doubling from
    /// 1 s up to 30 s, each a random 50–100 % of that ("equal jitter", so clients sharing a key
    /// do not retry in step, as Scalr's message asks), or the server's Retry-After when longer,
    /// until <see cref="Budget"/> of sleeping is spent.
    /// </summary>
    internal sealed class ThrottleBackoff
    {
        private static readonly TimeSpan First = TimeSpan.FromSeconds(1);
        private static readonly TimeSpan Longest = TimeSpan.FromSeconds(30);
        private readonly Random _random;
        private TimeSpan _ceiling = First;

        public ThrottleBackoff(TimeSpan budget, Random random)
        {
            Budget = budget;
            _random = random;
        }

        public TimeSpan Budget { get; }

        public TimeSpan Slept { get; private set; }

        /// <summary>The next pause, or null when the budget is spent.</summary>
        public TimeSpan? Next(TimeSpan? retryAfter)
        {
            double fraction;
            lock (_random) fraction = 0.5 + _random.NextDouble() / 2;
            var pause = TimeSpan.FromTicks((long)(_ceiling.Ticks * fraction));
            if (retryAfter.HasValue && retryAfter.Value > pause) pause = retryAfter.Value;
            if (Slept + pause > Budget) return null;
            Slept += pause;
            _ceiling = _ceiling + _ceiling > Longest ? Longest : _ceiling + _ceiling;
            return pause;
        }
    }
}

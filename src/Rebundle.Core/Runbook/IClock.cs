namespace Rebundle.Runbook
{
    /// <summary>Time for the runbook: real on a real fleet, driven by tests elsewhere.</summary>
    public interface IClock
    {
        DateTimeOffset UtcNow { get; }

        /// <summary>Waits <paramref name="duration"/>; throws <see cref="OperationCanceledException"/> when cancelled.</summary>
        void Sleep(TimeSpan duration, CancellationToken cancellation);
    }

    public sealed class SystemClock : IClock
    {
        public static readonly SystemClock Instance = new SystemClock();

        public DateTimeOffset UtcNow => DateTimeOffset.UtcNow;

        public void Sleep(TimeSpan duration, CancellationToken cancellation)
        {
            if (duration > TimeSpan.Zero) cancellation.WaitHandle.WaitOne(duration);
            cancellation.ThrowIfCancellationRequested();
        }
    }

    /// <summary>A clock that only moves when told to, or when someone sleeps on it.</summary>
    public sealed class ManualClock : IClock
    {
        private readonly object _gate = new object();
        private DateTimeOffset _now;

        public ManualClock(DateTimeOffset start) => _now = start;

        public DateTimeOffset UtcNow
        {
            get { lock (_gate) return _now; }
        }

        public void Advance(TimeSpan by)
        {
            lock (_gate) _now += by;
        }

        public void Sleep(TimeSpan duration, CancellationToken cancellation)
        {
            cancellation.ThrowIfCancellationRequested();
            Advance(duration);
        }
    }
}

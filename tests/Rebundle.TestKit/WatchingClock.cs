using System;
using System.Threading;
using Rebundle.Runbook;

namespace Rebundle.TestKit;

/// <summary>
/// A manual clock that calls back after each sleep: one poll round of a wait. A test watches
/// what users would notice at every poll (healthy targets, servers terminated too early).
/// </summary>
public sealed class WatchingClock : IClock
{
    public WatchingClock(ManualClock inner) => Inner = inner;

    public WatchingClock(DateTimeOffset start) : this(new ManualClock(start)) { }

    public ManualClock Inner { get; }

    /// <summary>Called after every sleep, before the sleeper goes on; a cancellation it makes is seen at once.</summary>
    public Action? Slept { get; set; }

    public DateTimeOffset UtcNow => Inner.UtcNow;

    public void Advance(TimeSpan by) => Inner.Advance(by);

    public void Sleep(TimeSpan duration, CancellationToken cancellation)
    {
        Inner.Sleep(duration, cancellation);
        Slept?.Invoke();
        cancellation.ThrowIfCancellationRequested();
    }
}

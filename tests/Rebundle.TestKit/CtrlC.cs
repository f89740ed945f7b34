using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Rebundle.TestFakes;
using Xunit;

namespace Rebundle.TestKit;

/// <summary>Ctrl+C pressed at a chosen moment against a loopback fake.</summary>
public static class CtrlC
{
    /// <summary>
    /// Runs <paramref name="call"/> and presses Ctrl+C once the fake holds its request: what it
    /// threw, how long it took after the press, and whether the fake saw the client drop the
    /// request (checked before the stall is released, so a late answer cannot count).
    /// </summary>
    public static (Exception? Error, TimeSpan Took, bool Abandoned) StopWhenHeld<TRequest>(HeldAnswers<TRequest> stalls, Action<CancellationToken> call)
    {
        using var cancel = new CancellationTokenSource();
        var stopwatch = new Stopwatch();
        var presser = Task.Run(() =>
        {
            Assert.True(stalls.WaitUntilHeld(TimeSpan.FromSeconds(30)), "the stalled request never came");
            stopwatch.Start();
            cancel.Cancel();
            // A call that ignores Ctrl+C fails on its time instead of hanging the run.
            _ = Task.Delay(TimeSpan.FromSeconds(10)).ContinueWith(_ => stalls.Release(), TaskScheduler.Default);
        });
        Exception? error = null;
        try
        {
            call(cancel.Token);
        }
        catch (Exception e)
        {
            error = e;
        }
        stopwatch.Stop();
        // Kestrel notices a dropped connection within moments.
        var abandoned = SpinWait.SpinUntil(() => stalls.Abandoned > 0, TimeSpan.FromSeconds(5));
        stalls.Release();
        presser.GetAwaiter().GetResult();
        return (error, stopwatch.Elapsed, abandoned);
    }
}

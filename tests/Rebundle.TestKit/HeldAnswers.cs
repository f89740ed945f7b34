using System;
using System.Threading;
using System.Threading.Tasks;

namespace Rebundle.TestFakes;

/// <summary>
/// Holds the answer to chosen requests until released: a stalled service as Ctrl+C meets it. A
/// held request has not been acted on yet; if its client gives up, it never is, and is counted as
/// abandoned — proof that the client really dropped the call. Shared by the loopback fakes (linked
/// source); each says what a request is to it (an EC2 action; a Scalr method and path).
/// </summary>
public abstract class HeldAnswers<TRequest>
{
    private readonly object _gate = new();
    private Func<TRequest, bool>? _stalled;
    private TaskCompletionSource _released = NewSignal();
    private TaskCompletionSource _held = NewSignal();
    private int _abandoned;

    /// <summary>Requests <paramref name="stalled"/> picks wait until <see cref="Release"/>.</summary>
    protected void StallWhere(Func<TRequest, bool> stalled)
    {
        lock (_gate)
        {
            _stalled = stalled;
            _released = NewSignal();
            _held = NewSignal();
        }
    }

    /// <summary>Lets every held request go on (and be acted on) and stalls nothing more.</summary>
    public void Release()
    {
        lock (_gate)
        {
            _stalled = null;
            _released.TrySetResult();
        }
    }

    /// <summary>Whether a stalled request has arrived and is being held.</summary>
    public bool WaitUntilHeld(TimeSpan timeout)
    {
        Task held;
        lock (_gate) held = _held.Task;
        return held.Wait(timeout);
    }

    /// <summary>Held requests whose client went away before the release; none of them was acted on.</summary>
    public int Abandoned => Volatile.Read(ref _abandoned);

    /// <summary>Waits while <paramref name="request"/> is stalled; false when the client gave up meanwhile.</summary>
    protected async Task<bool> HoldIfStalled(TRequest request, CancellationToken clientGone)
    {
        Task released;
        lock (_gate)
        {
            if (_stalled == null || !_stalled(request)) return true;
            released = _released.Task;
            _held.TrySetResult();
        }
        try
        {
            await released.WaitAsync(clientGone);
            return true;
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref _abandoned);
            return false;
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

using System;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace Rebundle.ScalrApi;

/// <summary>
/// Holds the answer to chosen requests until released: a stalled Scalr as Ctrl+C meets it. A
/// held request has not been acted on yet; if its client gives up, it never is, and is counted
/// as abandoned — proof that the client really dropped the call.
/// </summary>
public sealed class AnswerStalls
{
    private readonly object _gate = new();
    private string? _method;
    private Regex? _path;
    private TaskCompletionSource _released = NewSignal();
    private TaskCompletionSource _held = NewSignal();
    private int _abandoned;

    /// <summary>Requests of <paramref name="method"/> whose path matches <paramref name="pathPattern"/> wait until <see cref="Release"/>.</summary>
    public void Stall(string method, string pathPattern)
    {
        lock (_gate)
        {
            _method = method;
            _path = new Regex(pathPattern, RegexOptions.CultureInvariant);
            _released = NewSignal();
            _held = NewSignal();
        }
    }

    /// <summary>Lets every held request go on (and be acted on) and stalls nothing more.</summary>
    public void Release()
    {
        lock (_gate)
        {
            _method = null;
            _path = null;
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

    /// <summary>Waits while the request is stalled; false when the client gave up meanwhile.</summary>
    internal async Task<bool> Hold(string method, string path, CancellationToken clientGone)
    {
        Task released;
        lock (_gate)
        {
            if (_path == null || !string.Equals(_method, method, StringComparison.OrdinalIgnoreCase) || !_path.IsMatch(path)) return true;
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

using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Rebundle.Ec2Endpoint;

/// <summary>
/// Holds the answer to chosen actions until released: a stalled EC2 as Ctrl+C meets it. A held
/// request has not been acted on yet; if its client gives up (the SDK cancelled), it never is,
/// and is counted as abandoned — proof that the client really dropped the call.
/// </summary>
public sealed class AnswerStalls
{
    private readonly object _gate = new();
    private string? _action;
    private TaskCompletionSource _released = NewSignal();
    private TaskCompletionSource _held = NewSignal();
    private int _abandoned;

    /// <summary>Requests of this action (e.g. "RunInstances") wait until <see cref="Release"/>.</summary>
    public void Stall(string action)
    {
        lock (_gate)
        {
            _action = action;
            _released = NewSignal();
            _held = NewSignal();
        }
    }

    /// <summary>Lets every held request go on (and be acted on) and stalls nothing more.</summary>
    public void Release()
    {
        lock (_gate)
        {
            _action = null;
            _released.TrySetResult();
        }
    }

    /// <summary>Whether a request of the stalled action has arrived and is being held.</summary>
    public bool WaitUntilHeld(TimeSpan timeout)
    {
        Task held;
        lock (_gate) held = _held.Task;
        return held.Wait(timeout);
    }

    /// <summary>Held requests whose client went away before the release; none of them was acted on.</summary>
    public int Abandoned => Volatile.Read(ref _abandoned);

    /// <summary>Waits while <paramref name="action"/> is stalled; false when the client gave up meanwhile.</summary>
    internal async Task<bool> Hold(string action, CancellationToken clientGone)
    {
        Task released;
        lock (_gate)
        {
            if (!string.Equals(_action, action, StringComparison.Ordinal)) return true;
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

    /// <summary>
    /// For Pester: <c>POST /_ttm/stall?action=RunInstances</c>, <c>POST /_ttm/release</c>,
    /// <c>GET /_ttm/stall</c> → <c>{ held, abandoned }</c>.
    /// </summary>
    internal void MapControl(WebApplication app)
    {
        app.MapPost("/_ttm/stall", (HttpRequest request) =>
        {
            Stall(request.Query["action"].ToString());
            return Results.NoContent();
        });
        app.MapPost("/_ttm/release", () =>
        {
            Release();
            return Results.NoContent();
        });
        app.MapGet("/_ttm/stall", () => Results.Json(new { held = WaitUntilHeld(TimeSpan.Zero), abandoned = Abandoned }));
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

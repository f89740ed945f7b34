using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Rebundle.TestFakes;

namespace Rebundle.Ec2Endpoint;

/// <summary>A stalled EC2 as Ctrl+C meets it: chosen actions' answers held until released (<see cref="HeldAnswers{TRequest}"/>).</summary>
public sealed class AnswerStalls : HeldAnswers<string>
{
    /// <summary>Requests of this action (e.g. "RunInstances") wait until <see cref="HeldAnswers{TRequest}.Release"/>.</summary>
    public void Stall(string action) => StallWhere(a => string.Equals(a, action, StringComparison.Ordinal));

    /// <summary>Waits while <paramref name="action"/> is stalled; false when the client gave up meanwhile.</summary>
    internal Task<bool> Hold(string action, CancellationToken clientGone) => HoldIfStalled(action, clientGone);

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
}

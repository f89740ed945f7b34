using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Rebundle.Ec2Endpoint;

/// <summary>
/// SSM and S3 on the endpoint's one URL: a middleware ahead of the EC2 routes takes
/// <c>POST /</c> with <c>X-Amz-Target: AmazonSSM.*</c> and the GETs signed for s3; the
/// rest goes on to EC2. And the control routes for Pester:
/// <c>POST /_ttm/ssm/instances?instance=i-…&amp;platform=Ubuntu&amp;platformVersion=22.04&amp;bootTime=2026-01-01 00:00:00</c>
/// (→ { instanceId, root, workingDirectory, stateDirectory, binDirectory }),
/// <c>GET /_ttm/ssm/instances</c> (→ each managed instance now: instanceId, pingStatus, stateDirectory …),
/// <c>POST /_ttm/ssm/agent?instance=i-…&amp;status=ConnectionLost</c> (Online, ConnectionLost, Inactive),
/// <c>GET /_ttm/ssm/invocations?commandId=…&amp;instance=i-…</c> (→ invocations, oldest first, with their whole output),
/// <c>POST /_ttm/ssm/launch-files?farm=Rebundle-Staging&amp;alias=Sidekiq&amp;path=chef/failed-run-data.json&amp;content=…</c>
/// (what the instances launched from now on that carry those tags find in their state folder once --ssm registers them),
/// <c>POST /_ttm/ssm/buckets?name=…</c>,
/// <c>POST /_ttm/ssm/faults?deny=SendCommand,s3:GetObject&amp;invocationDoesNotExistSeconds=10</c> (deny= allows all again),
/// <c>POST /_ttm/ssm/settings?rebootSeconds=5&amp;notYetVisibleSeconds=2&amp;cancelSeconds=1</c>.
/// Throttling and lost answers are the shared /_ttm/faults (throttle=, throttleAction=SendCommand, loseResponses=).
/// </summary>
public sealed partial class SsmFleet
{
    internal static void MapHttp(WebApplication app, Ec2Fleet fleet, AnswerStalls stalls)
    {
        app.Lifetime.ApplicationStopped.Register(fleet.DisposeSsm);
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            var target = request.Headers["X-Amz-Target"].ToString();
            if (HttpMethods.IsPost(request.Method) && target.StartsWith("AmazonSSM.", StringComparison.Ordinal))
            {
                var signed = await Signed(request);
                var action = target.Substring("AmazonSSM.".Length);
                if (!await stalls.Hold(action, context.RequestAborted)) return;
                if (action == "GetCommandInvocation") await fleet.Ssm.Settle(signed.Body, context.RequestAborted);
                var (status, body) = fleet.Ssm.Handle(action, signed);
                context.Response.StatusCode = status;
                context.Response.ContentType = "application/x-amz-json-1.1";
                context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
                await context.Response.WriteAsync(body);
                return;
            }
            if ((HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) && !request.Path.StartsWithSegments("/_ttm")
                && SigV4Check.ServiceOf(await Signed(request)) == S3SigningName)
            {
                var signed = await Signed(request);
                var path = request.Path.Value!.TrimStart('/');
                var slash = path.IndexOf('/');
                var (bucket, key) = slash < 0 ? (path, "") : (path.Substring(0, slash), path.Substring(slash + 1));
                if (!await stalls.Hold("GetObject", context.RequestAborted)) return;
                var (status, contentType, body) = fleet.Ssm.GetObject(signed, bucket, key);
                context.Response.StatusCode = status;
                context.Response.ContentType = contentType;
                context.Response.ContentLength = body.Length;
                context.Response.Headers["x-amz-request-id"] = Guid.NewGuid().ToString("N").Substring(0, 16).ToUpperInvariant();
                if (status == 200) context.Response.Headers.ETag = "\"" + Convert.ToHexString(System.Security.Cryptography.MD5.HashData(body)).ToLowerInvariant() + "\"";
                if (!HttpMethods.IsHead(request.Method)) await context.Response.Body.WriteAsync(body);
                return;
            }
            await next(context);
        });
        MapControl(app, fleet);
    }

    /// <summary>The request as SigV4 signed it (read once, kept for a second look).</summary>
    private static async Task<SignedRequest> Signed(HttpRequest request)
    {
        if (request.HttpContext.Items.TryGetValue(typeof(SignedRequest), out var kept) && kept is SignedRequest done) return done;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        var headers = request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(",", h.Value.ToArray()), StringComparer.Ordinal);
        var signed = new SignedRequest(request.Method, request.PathBase + request.Path, request.QueryString.Value ?? "", headers, buffer.ToArray());
        request.HttpContext.Items[typeof(SignedRequest)] = signed;
        return signed;
    }

    /// <summary>Waits, outside the lock and for at most <see cref="SettleTime"/> of wall time, for the asked-for invocation's process to end.</summary>
    private async Task Settle(byte[] body, CancellationToken cancellation)
    {
        Process? process;
        try
        {
            var input = JsonNode.Parse(body) as JsonObject;
            var commandId = input?["CommandId"]?.GetValue<string>();
            var instanceId = input?["InstanceId"]?.GetValue<string>();
            lock (_ec2.Gate) process = _invocations.FirstOrDefault(i => i.Command.CommandId == commandId && i.InstanceId == instanceId)?.Process;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            return; // Handle answers the malformed request
        }
        if (process == null) return;
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        wait.CancelAfter(SettleTime);
        try { await process.WaitForExitAsync(wait.Token); }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or ObjectDisposedException) { }
    }

    private static void MapControl(WebApplication app, Ec2Fleet fleet)
    {
        static double? Seconds(IQueryCollection q, string key) => q.TryGetValue(key, out var v) ? double.Parse(v.ToString(), CultureInfo.InvariantCulture) : null;
        app.MapPost("/_ttm/ssm/instances", (HttpRequest request) => Checked(() =>
        {
            var q = request.Query;
            string Or(string key, string fallback) => q.TryGetValue(key, out var v) && v.ToString().Length > 0 ? v.ToString() : fallback;
            var instance = fleet.Ssm.RegisterManagedInstance(q["instance"].ToString(), Or("platform", "Ubuntu"), Or("platformVersion", "22.04"),
                Or("agentVersion", "3.3.1611.0"), Or("bootTime", "2026-01-01 00:00:00"));
            return Results.Json(new
            {
                instanceId = instance.InstanceId, root = instance.Root, workingDirectory = instance.WorkingDirectory,
                stateDirectory = instance.StateDirectory, binDirectory = instance.BinDirectory,
            });
        }));
        app.MapGet("/_ttm/ssm/instances", () => Results.Json(fleet.Ssm.InstanceStates.Select(i => new
        {
            instanceId = i.InstanceId, pingStatus = i.PingStatus, lastPingDateTime = i.LastPingDateTime, platformName = i.PlatformName,
            workingDirectory = i.WorkingDirectory, stateDirectory = i.StateDirectory, reboots = i.Reboots,
        })));
        app.MapPost("/_ttm/ssm/agent", (HttpRequest request) => Checked(() =>
        {
            fleet.Ssm.SetAgentStatus(request.Query["instance"].ToString(), request.Query["status"].ToString());
            return Results.NoContent();
        }));
        app.MapGet("/_ttm/ssm/invocations", (HttpRequest request) =>
        {
            var q = request.Query;
            var commandId = q.TryGetValue("commandId", out var c) ? c.ToString() : null;
            var instance = q.TryGetValue("instance", out var i) ? i.ToString() : null;
            return Results.Json(fleet.Ssm.Invocations.Where(v => (commandId == null || v.CommandId == commandId) && (instance == null || v.InstanceId == instance)).Select(v => new
            {
                commandId = v.CommandId, instanceId = v.InstanceId, documentName = v.DocumentName, commands = v.Commands, comment = v.Comment,
                status = v.Status, statusDetails = v.StatusDetails, responseCode = v.ResponseCode, standardOutput = v.StandardOutput, standardError = v.StandardError,
                requestedAt = v.RequestedAt, startedAt = v.StartedAt, endedAt = v.EndedAt, runs = v.Runs,
                executionTimeoutSeconds = v.ExecutionTimeout.TotalSeconds, timeoutSeconds = v.TimeoutSeconds, outputS3BucketName = v.OutputS3BucketName, outputS3KeyPrefix = v.OutputS3KeyPrefix,
            }));
        });
        app.MapPost("/_ttm/ssm/launch-files", (HttpRequest request) => Checked(() =>
        {
            var q = request.Query;
            string? Tag(string key) => q.TryGetValue(key, out var v) && v.ToString().Length > 0 ? v.ToString() : null;
            fleet.Ssm.AddLaunchFile(Tag("farm"), Tag("alias"), q["path"].ToString(), q["content"].ToString());
            return Results.NoContent();
        }));
        app.MapPost("/_ttm/ssm/buckets", (HttpRequest request) =>
        {
            fleet.Ssm.AddBucket(request.Query["name"].ToString());
            return Results.NoContent();
        });
        app.MapPost("/_ttm/ssm/faults", (HttpRequest request) =>
        {
            var q = request.Query;
            lock (fleet.Gate)
            {
                if (q.TryGetValue("deny", out var deny))
                {
                    fleet.Ssm.Faults.DeniedActions.Clear();
                    foreach (var denied in deny.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) fleet.Ssm.Faults.DeniedActions.Add(denied);
                }
                if (q.TryGetValue("invocationDoesNotExistSeconds", out var unknown))
                    fleet.Ssm.Faults.InvocationDoesNotExistFor = unknown.ToString().Length == 0 ? null : TimeSpan.FromSeconds(double.Parse(unknown.ToString(), CultureInfo.InvariantCulture));
            }
            return Results.NoContent();
        });
        app.MapPost("/_ttm/ssm/settings", (HttpRequest request) =>
        {
            var q = request.Query;
            lock (fleet.Gate)
            {
                if (Seconds(q, "rebootSeconds") is { } reboot) fleet.Ssm.RebootTime = TimeSpan.FromSeconds(reboot);
                if (Seconds(q, "notYetVisibleSeconds") is { } unseen) fleet.Ssm.NotYetVisibleFor = TimeSpan.FromSeconds(unseen);
                if (Seconds(q, "cancelSeconds") is { } cancel) fleet.Ssm.CancelTime = TimeSpan.FromSeconds(cancel);
            }
            return Results.NoContent();
        });
    }

    /// <summary>A test's mistake (an unknown instance, a wrong status) is a 400 with the reason, not a 500.</summary>
    private static IResult Checked(Func<IResult> act)
    {
        try { return act(); }
        catch (ArgumentException e) { return Results.BadRequest(new { error = e.Message }); }
    }
}

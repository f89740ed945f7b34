using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rebundle.Ec2Endpoint;

/// <summary>
/// Serves an <see cref="Ec2Fleet"/> over HTTP on loopback: EC2 Query requests on <c>POST /</c>,
/// and a small control surface under <c>/_ttm/</c> for tests in another process (the request
/// log, fault injection, timings).
/// </summary>
public sealed class Ec2Endpoint : IDisposable
{
    private readonly WebApplication _app;

    private Ec2Endpoint(WebApplication app, Ec2Fleet fleet, Uri url, AnswerStalls stalls)
    {
        _app = app;
        Stalls = stalls;
        Fleet = fleet;
        Url = url;
    }

    public Ec2Fleet Fleet { get; }

    /// <summary>Answers held back until released (AnswerStalls.cs).</summary>
    public AnswerStalls Stalls { get; }

    /// <summary>The endpoint URL to give the SDK as ServiceURL, e.g. http://127.0.0.1:41234/.</summary>
    public Uri Url { get; }

    public static Ec2Endpoint Start(Ec2Fleet? fleet = null, int port = 0)
    {
        fleet ??= new Ec2Fleet();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var handle = fleet;
        var stalls = new AnswerStalls();
        app.MapPost("/", async context =>
        {
            // The body is read as bytes first: the signature covers its hash.
            using var buffer = new System.IO.MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var body = buffer.ToArray();
            var parameters = context.Request.HasFormContentType
                ? Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(System.Text.Encoding.UTF8.GetString(body))
                    .ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal)
                : new System.Collections.Generic.Dictionary<string, string>();
            var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(",", h.Value.ToArray()), StringComparer.Ordinal);
            var signed = new SignedRequest(context.Request.Method, context.Request.PathBase + context.Request.Path, context.Request.QueryString.Value ?? "", headers, body);
            if (!await stalls.Hold(parameters.TryGetValue("Action", out var action) ? action : "", context.RequestAborted)) return;
            var (status, answer) = handle.Handle(new QueryRequest(parameters), signed);
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/xml;charset=UTF-8";
            await context.Response.WriteAsync(answer);
        });
        // SSO portal: GET /federation/credentials?account_id=…&role_name=… with x-amz-sso_bearer_token.
        app.MapGet("/federation/credentials", async context =>
        {
            var q = context.Request.Query;
            var (status, json) = handle.SsoRoleCredentials(q["account_id"].ToString(), q["role_name"].ToString(),
                context.Request.Headers.TryGetValue("x-amz-sso_bearer_token", out var bearer) ? bearer.ToString() : null);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(json);
        });
        MapControl(app, fleet);
        stalls.MapControl(app);
        // Systems Manager (JSON, X-Amz-Target AmazonSSM.*) and S3 GetObject on the same URL, and /_ttm/ssm/ (SsmFleet.Http.cs).
        SsmFleet.MapHttp(app, fleet, stalls);
        app.StartAsync().GetAwaiter().GetResult();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Ec2Endpoint(app, fleet, new Uri(address.TrimEnd('/') + "/"), stalls);
    }

    private static void MapControl(WebApplication app, Ec2Fleet fleet)
    {
        app.MapGet("/_ttm/requests", () => Results.Json(fleet.Requests.Select(r => new
        {
            action = r.Action, status = r.Status, errorCode = r.ErrorCode, mutating = r.IsMutating, parameters = r.Parameters, accessKey = r.AccessKey, service = r.Service,
        })));
        app.MapDelete("/_ttm/requests", () =>
        {
            fleet.ClearRequests();
            return Results.NoContent();
        });
        // POST /_ttm/tags?resource=lt-…&key=ttm:lease&value=…: another writer's tag (a lease from "another machine").
        app.MapPost("/_ttm/tags", (HttpRequest request) =>
        {
            var q = request.Query;
            fleet.SetTag(q["resource"].ToString(), q["key"].ToString(), q["value"].ToString());
            return Results.NoContent();
        });
        MapElbv2Control(app, fleet);
        MapAutoScalingControl(app, fleet);
        MapHandMadeControl(app, fleet);
        // POST /_ttm/faults?throttle=3&throttleAction=DescribeInstances&stallLaunches=1&failLaunches=1&impairLaunches=1&failImage=Rails*&deny=CreateImage,RunInstances
        //   &scalingActivityInProgress=1&resourceContention=1&denyAsg=SetDesiredCapacity
        app.MapPost("/_ttm/faults", (HttpRequest request) =>
        {
            var q = request.Query;
            int? Int(string key) => q.TryGetValue(key, out var v) ? int.Parse(v.ToString(), CultureInfo.InvariantCulture) : null;
            lock (fleet.Faults)
            {
                fleet.Faults.ThrottleNext = Int("throttle") ?? fleet.Faults.ThrottleNext;
                if (q.TryGetValue("throttleAction", out var action)) fleet.Faults.ThrottleAction = action.ToString();
                fleet.Faults.LoseResponses = Int("loseResponses") ?? fleet.Faults.LoseResponses;
                if (q.TryGetValue("loseAction", out var lose)) fleet.Faults.LoseAction = lose.ToString();
                fleet.Faults.StallLaunches = Int("stallLaunches") ?? fleet.Faults.StallLaunches;
                fleet.Faults.FailLaunches = Int("failLaunches") ?? fleet.Faults.FailLaunches;
                fleet.Faults.ImpairLaunches = Int("impairLaunches") ?? fleet.Faults.ImpairLaunches;
                fleet.Elbv2.Faults.UnhealthyRegistrations = Int("unhealthyRegistrations") ?? fleet.Elbv2.Faults.UnhealthyRegistrations;
                if (q.TryGetValue("denyElb", out var denyElb))
                {
                    // denyElb=RegisterTargets,DeregisterTargets: those ELBv2 actions are AccessDenied; denyElb= allows them again.
                    fleet.Elbv2.Faults.DeniedActions.Clear();
                    foreach (var denied in denyElb.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries)) fleet.Elbv2.Faults.DeniedActions.Add(denied.Trim());
                }
                fleet.AutoScaling.Faults.ScalingActivityInProgress = Int("scalingActivityInProgress") ?? fleet.AutoScaling.Faults.ScalingActivityInProgress;
                fleet.AutoScaling.Faults.ResourceContention = Int("resourceContention") ?? fleet.AutoScaling.Faults.ResourceContention;
                if (q.TryGetValue("denyAsg", out var denyAsg))
                {
                    // denyAsg=SetDesiredCapacity,UpdateAutoScalingGroup: AccessDenied, as denyElb (a name of its own: DeleteTags is EC2's too); denyAsg= allows them again.
                    fleet.AutoScaling.Faults.DeniedActions.Clear();
                    foreach (var denied in denyAsg.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries)) fleet.AutoScaling.Faults.DeniedActions.Add(denied.Trim());
                }
                foreach (var pattern in q["failImage"]) fleet.Faults.FailingImageNames.Add(pattern!);
                if (q.TryGetValue("deny", out var deny))
                {
                    // deny=CreateImage,RunInstances: those actions are refused from now on; deny= allows everything again.
                    fleet.Faults.DeniedActions.Clear();
                    foreach (var denied in deny.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries)) fleet.Faults.DeniedActions.Add(denied.Trim());
                }
            }
            return Results.NoContent();
        });
    }

    /// <summary>
    /// ELBv2 for Pester: <c>POST /_ttm/elb/target-groups?name=web&amp;deregistrationDelaySeconds=1&amp;intervalSeconds=0.1&amp;healthyThreshold=2</c>
    /// (→ { name, arn }), <c>POST /_ttm/elb/targets?targetGroup=web&amp;instance=i-…&amp;unhealthy=true</c> (false: passes again),
    /// <c>GET /_ttm/elb/targets?targetGroup=web</c> (→ { "i-…": "healthy", … }),
    /// <c>POST /_ttm/elb/farm-role?farm=Dev&amp;alias=RailsAppServer&amp;targetGroups=web,api</c> (tags the farm role).
    /// </summary>
    private static void MapElbv2Control(WebApplication app, Ec2Fleet fleet)
    {
        app.MapPost("/_ttm/elb/target-groups", (HttpRequest request) => Checked(() =>
        {
            var q = request.Query;
            double? Seconds(string key) => q.TryGetValue(key, out var v) ? double.Parse(v.ToString(), CultureInfo.InvariantCulture) : null;
            var group = fleet.Elbv2.AddTargetGroup(q["name"].ToString(),
                Seconds("deregistrationDelaySeconds") is { } delay ? TimeSpan.FromSeconds(delay) : null,
                Seconds("intervalSeconds") is { } interval ? TimeSpan.FromSeconds(interval) : null,
                q.TryGetValue("healthyThreshold", out var threshold) ? int.Parse(threshold.ToString(), CultureInfo.InvariantCulture) : 5);
            return Results.Json(new { name = group.Name, arn = group.Arn });
        }));
        app.MapPost("/_ttm/elb/targets", (HttpRequest request) => Checked(() =>
        {
            var q = request.Query;
            fleet.Elbv2.SetUnhealthy(q["targetGroup"].ToString(), q["instance"].ToString(), !string.Equals(q["unhealthy"].ToString(), "false", StringComparison.OrdinalIgnoreCase));
            return Results.NoContent();
        }));
        app.MapGet("/_ttm/elb/targets", (HttpRequest request) => Checked(() => Results.Json(fleet.Elbv2.StatesOf(request.Query["targetGroup"].ToString()))));
        // POST /_ttm/elb/farm-role?farm=Dev&alias=RailsAppServer&targetGroups=web,api: the farm role's ttm:target-groups tag, by template name.
        app.MapPost("/_ttm/elb/farm-role", (HttpRequest request) => Checked(() =>
        {
            var q = request.Query;
            var template = fleet.LaunchTemplateNamed($"farm/{q["farm"]}/{q["alias"]}") ?? throw new ArgumentException($"There is no farm role template farm/{q["farm"]}/{q["alias"]}.");
            fleet.SetTag(template.Id, "ttm:target-groups", q["targetGroups"].ToString());
            return Results.NoContent();
        }));
    }

    /// <summary>
    /// Auto Scaling for Pester: <c>POST /_ttm/asg/groups?name=web&amp;launchTemplate=role/RailsAppServer&amp;version=$Default&amp;min=1&amp;max=4&amp;desired=2&amp;targetGroups=a,b&amp;healthCheckType=ELB&amp;healthCheckGracePeriodSeconds=0&amp;tags=Key=Value,Key2=Value2&amp;protectNewInstances=false&amp;seedInService=true</c>
    /// (tags propagate at launch; → { name, instances: [ids] }), <c>GET /_ttm/asg/groups?name=web</c> (→ the group as it is now: AutoScalingGroupView),
    /// <c>POST /_ttm/asg/hooks?group=web&amp;name=h&amp;transition=launching&amp;heartbeatSeconds=2&amp;defaultResult=CONTINUE</c> (or terminating; AWS's defaults: 3600 s, ABANDON).
    /// </summary>
    private static void MapAutoScalingControl(WebApplication app, Ec2Fleet fleet)
    {
        static string[] Listed(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        app.MapPost("/_ttm/asg/groups", (HttpRequest request) => Checked(() =>
        {
            var q = request.Query;
            int Int(string key, int fallback) => q.TryGetValue(key, out var v) ? int.Parse(v.ToString(), CultureInfo.InvariantCulture) : fallback;
            bool Flag(string key, bool fallback) => q.TryGetValue(key, out var v) ? string.Equals(v.ToString(), "true", StringComparison.OrdinalIgnoreCase) : fallback;
            var tags = Listed(q["tags"].ToString()).Select(pair => pair.Split('=', 2)).Select(kv => new AutoScalingTag(kv[0], kv.Length > 1 ? kv[1] : "", true));
            var group = fleet.AutoScaling.AddGroup(q["name"].ToString(), q["launchTemplate"].ToString(),
                q.TryGetValue("version", out var version) ? version.ToString() : "$Default", Int("min", 1), Int("max", 1), Int("desired", 1),
                Listed(q["targetGroups"].ToString()), q.TryGetValue("healthCheckType", out var type) ? type.ToString() : "EC2",
                TimeSpan.FromSeconds(q.TryGetValue("healthCheckGracePeriodSeconds", out var grace) ? double.Parse(grace.ToString(), CultureInfo.InvariantCulture) : 0),
                tags.ToList(), Flag("protectNewInstances", false), Flag("seedInService", true));
            return Results.Json(new { name = group.Name, instances = group.Instances.Select(i => i.Id) });
        }));
        app.MapGet("/_ttm/asg/groups", (HttpRequest request) => Checked(() =>
            request.Query.TryGetValue("name", out var name) ? Results.Json(fleet.AutoScaling.Group(name.ToString())) : Results.Json(fleet.AutoScaling.Groups)));
        app.MapPost("/_ttm/asg/hooks", (HttpRequest request) => Checked(() =>
        {
            var q = request.Query;
            fleet.AutoScaling.AddLifecycleHook(q["group"].ToString(), q["name"].ToString(), q["transition"].ToString(),
                q.TryGetValue("heartbeatSeconds", out var heartbeat) ? TimeSpan.FromSeconds(double.Parse(heartbeat.ToString(), CultureInfo.InvariantCulture)) : null,
                q.TryGetValue("defaultResult", out var result) ? result.ToString() : "ABANDON");
            return Results.NoContent();
        }));
    }

    /// <summary>
    /// What someone made without Rebundle (the console, another tool), for Pester: <c>POST /_ttm/images?name=legacy-web</c>
    /// (→ { id, name }, available at once), <c>POST /_ttm/launch-templates?name=web-lt&amp;imageId=ami-…&amp;instanceType=t3.small&amp;tags=K=V,K2=V2</c>
    /// (→ { id, name }: one version, the default), <c>POST /_ttm/instances?imageId=ami-…&amp;launchTemplate=web-lt&amp;tags=app=reports</c>
    /// (→ { id }: running for a day, status checks passed; the image defaults to the template's), and
    /// <c>GET /_ttm/instances</c> (→ every instance now: id, state, imageId, launchTemplateId, tags { K: V }).
    /// </summary>
    private static void MapHandMadeControl(WebApplication app, Ec2Fleet fleet)
    {
        static IEnumerable<KeyValuePair<string, string>> Tags(string text) =>
            text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(pair => pair.Split('=', 2))
                .Select(kv => new KeyValuePair<string, string>(kv[0], kv.Length > 1 ? kv[1] : "")).ToList();
        string RequireImage(string imageId) =>
            fleet.Images.Any(i => i.Id == imageId) ? imageId : throw new ArgumentException($"There is no image {imageId}.");
        app.MapPost("/_ttm/images", (HttpRequest request) => Checked(() =>
        {
            var name = request.Query["name"].ToString();
            if (name.Length == 0) throw new ArgumentException("An image needs a name.");
            var image = fleet.AddImage(name);
            return Results.Json(new { id = image.Id, name = image.Name });
        }));
        app.MapPost("/_ttm/launch-templates", (HttpRequest request) => Checked(() =>
        {
            var q = request.Query;
            var name = q["name"].ToString();
            if (name.Length == 0) throw new ArgumentException("A launch template needs a name.");
            if (fleet.LaunchTemplateNamed(name) != null) throw new ArgumentException($"A launch template named {name} exists already.");
            var data = new Dictionary<string, string>
            {
                ["ImageId"] = RequireImage(q["imageId"].ToString()),
                ["InstanceType"] = q.TryGetValue("instanceType", out var type) && type.ToString().Length > 0 ? type.ToString() : "t3.small",
            };
            var template = fleet.AddLaunchTemplate(name, data, Tags(q["tags"].ToString()));
            return Results.Json(new { id = template.Id, name = template.Name });
        }));
        app.MapPost("/_ttm/instances", (HttpRequest request) => Checked(() =>
        {
            var q = request.Query;
            Ec2LaunchTemplate? template = null;
            if (q.TryGetValue("launchTemplate", out var templateName) && templateName.ToString().Length > 0)
                template = fleet.LaunchTemplateNamed(templateName.ToString()) ?? throw new ArgumentException($"There is no launch template named {templateName}.");
            var imageId = q.TryGetValue("imageId", out var image) && image.ToString().Length > 0 ? image.ToString()
                : template?.Versions[0].Data.GetValueOrDefault("ImageId") ?? throw new ArgumentException("An instance needs an imageId, or a launchTemplate that names one.");
            var instance = fleet.AddInstance(RequireImage(imageId), Tags(q["tags"].ToString()), template?.Id);
            return Results.Json(new { id = instance.Id });
        }));
        app.MapGet("/_ttm/instances", () =>
        {
            lock (fleet.Gate)
            {
                return Results.Json(fleet.Instances.Select(i => new
                {
                    id = i.Id, state = fleet.StateOf(i), imageId = i.ImageId, launchTemplateId = i.LaunchTemplateId,
                    tags = i.Tags.All.GroupBy(t => t.Key).ToDictionary(g => g.Key, g => g.Last().Value),
                }).ToList());
            }
        });
    }

    /// <summary>A test's mistake (an unknown group or instance) is a 400 with the reason, not a 500.</summary>
    private static IResult Checked(Func<IResult> act)
    {
        try { return act(); }
        catch (ArgumentException e) { return Results.BadRequest(new { error = e.Message }); }
    }

    public void Dispose()
    {
        _app.StopAsync().GetAwaiter().GetResult();
        ((IDisposable)_app).Dispose();
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Runbook;
using Rebundle.ScalrApi;

namespace Rebundle.Scalr.Tests.Contract;

/// <summary>
/// The client and the loopback Scalr against Scalr's own spec: every request the backend sends
/// during the whole runbook, and every answer the loopback gives, is checked by
/// <see cref="ScalrSpec"/>. If either drifts from Scalr, this fails with the request and the field.
/// </summary>
public class ContractTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    [Fact]
    public void The_spec_reads_whole()
    {
        Assert.Equal(56, ScalrSpec.Instance.PathCount);
        Assert.Equal(115, ScalrSpec.Instance.DefinitionCount);
    }

    [Fact]
    public void Every_request_of_the_whole_runbook_and_every_answer_follow_the_spec()
    {
        using var scalr = new LoopbackScalr(withEc2: true);
        RunTheRunbook(scalr);

        var log = scalr.Server.RequestLog;
        var problems = log.SelectMany(Check).ToList();
        Assert.True(problems.Count == 0, "Left the spec:\n" + string.Join("\n", problems.Distinct().Take(40)));
        // Every kind of request the backend makes was seen (so the check covered each).
        var kinds = log.Select(r => r.Method + " " + Shape(r.Path)).ToHashSet();
        foreach (var expected in new[]
                 {
                     "GET farms/", "GET farms/{}/farm-roles/", "GET servers/", "GET servers/{}/", "GET roles/", "GET roles/{}/",
                     "GET roles/{}/images/", "GET images/", "POST images/", "POST roles/", "POST roles/{}/images/",
                     "POST roles/{}/images/{}/actions/replace/", "PATCH farm-roles/{}/", "POST farm-roles/{}/servers/",
                     "POST servers/{}/actions/terminate/",
                 })
            Assert.Contains(expected, kinds);
    }

    [Fact]
    public void Reconciling_reads_refusals_and_the_rate_limit_follow_the_spec_too()
    {
        using var scalr = new LoopbackScalr(withEc2: true);
        using (var backend = scalr.Connect())
        {
            var template = backend.GetRoles().Single(r => r.Name == "TTM-Base");
            var ami = scalr.Ec2!.Images.First().Id;
            scalr.Server.LimitRequests(6, TimeSpan.FromSeconds(3));
            scalr.Server.LoseAnswers(3, (method, _) => method == "POST");
            backend.CreateRole("Reports-1-7", template, ami);
            var farmRole = backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Reports");
            scalr.Server.LoseAnswers(2, (method, _) => method == "POST");
            var server = backend.LaunchServer(farmRole);
            backend.TerminateServer(server);
            backend.TerminateServer(server); // 409 UnacceptableState
        }

        var log = scalr.Server.RequestLog.Where(r => r.Status != 0).ToList(); // a lost answer has none to check
        Assert.Contains(log, r => r.ErrorCode == "LimitExceeded");
        Assert.Contains(log, r => r.ErrorCode == "UnacceptableState");
        Assert.Contains(log, r => r.Query.StartsWith("name="));
        Assert.Contains(log, r => r.Query.StartsWith("cloudImageId="));
        var problems = log.SelectMany(Check).ToList();
        Assert.True(problems.Count == 0, "Left the spec:\n" + string.Join("\n", problems.Distinct().Take(40)));
    }

    [Fact]
    public void The_checker_refuses_what_scalr_refuses()
    {
        var spec = ScalrSpec.Instance;
        // A role body without os and category, or with a null, never passes.
        Assert.NotEmpty(spec.Validate("Role", """{"name":"Web-1-7"}""", asRequest: true));
        Assert.NotEmpty(spec.Validate("Role", """{"name":"Web-1-7","category":{"id":1},"os":null}""", asRequest: true));
        Assert.NotEmpty(spec.Validate("Role", """{"name":"Web-1-7","category":{"id":1},"os":{"id":"ubuntu-14-04"},"builtinAutomation":["puppet"]}""", asRequest: true));
        Assert.Empty(spec.Validate("Role", """{"name":"Web-1-7","category":{"id":1},"os":{"id":"ubuntu-14-04"},"builtinAutomation":["chef"]}""", asRequest: true));
        // An image without architecture and os.
        Assert.NotEmpty(spec.Validate("Image", """{"name":"x","cloudPlatform":"ec2","cloudImageId":"ami-1"}""", asRequest: true));
        // Statuses and placement types Scalr does not have.
        Assert.NotEmpty(spec.Validate("ServerSummary", """{"status":"failed"}"""));
        Assert.Empty(spec.Validate("ServerSummary", """{"status":"suspended"}"""));
        Assert.NotEmpty(spec.Validate("PlacementConfiguration", """{"placementConfigurationType":"AwsClassic","region":"us-east-1"}"""));
        // Routes, methods, queries and path parameters.
        Assert.NotEmpty(spec.Check("GET", "/api/v1beta0/user/5/servers/", "maxResults=500", "", 200, """{"data":[]}"""));
        Assert.NotEmpty(spec.Check("GET", "/api/v1beta0/user/5/servers/", "imageId=ami-1", "", 200, """{"data":[]}"""));
        Assert.NotEmpty(spec.Check("DELETE", "/api/v1beta0/user/5/servers/", "", "", 200, "{}"));
        Assert.NotEmpty(spec.Check("GET", "/api/v1beta0/user/5/roles/abc/", "", "", 404, "{}"));
        Assert.Empty(spec.Check("GET", "/api/v1beta0/user/5/images/", "cloudImageId=ami-1&maxResults=100", "", 200, """{"data":[]}"""));
        // Launch-server is scalr-ctl's (newer than the 5.11 spec): its route is known.
        Assert.Empty(spec.Check("POST", "/api/v1beta0/user/5/farm-roles/40/servers/", "", "", 201, "{}"));
    }

    [Fact]
    public void The_spec_knows_the_status_enum_the_backend_maps()
    {
        var statuses = ScalrSpec.Instance.EnumOf("ServerSummary", "status");
        Assert.DoesNotContain("failed", statuses);
        Assert.All(statuses, s => ScalrBackend.StatusOf(s)); // every status maps without throwing
        Assert.Equal(11, statuses.Count);
    }

    internal static IEnumerable<string> Check(LoggedRequest r) =>
        ScalrSpec.Instance.Check(r.Method, r.Path, r.Query, r.RequestBody, r.Status, r.ResponseBody);

    private static string Shape(string path)
    {
        var route = path["/api/v1beta0/user/5/".Length..];
        // Ids (numbers, UUIDs) become {}; names of collections and actions stay.
        return string.Join("/", route.Split('/').Select(part => part.Length > 0 && (char.IsDigit(part[0]) || part.Contains('-') && part.Length == 36) ? "{}" : part));
    }

    /// <summary>Steps 4 to 8 of the runbook, plus a role made and taken back, on the loopback.</summary>
    internal static void RunTheRunbook(LoopbackScalr scalr)
    {
        using var fleet = new Fleet(scalr.Connect());
        var snapshots = new SnapshotService(fleet, NullReporter.Instance);
        var recycle = new RecycleService(fleet, NullReporter.Instance);
        var assign = new RoleAssignmentService(fleet);

        foreach (var plan in recycle.Plan(new[] { "Rebundle-Staging" }, new[] { "Sidekiq", "DevDebug" }, 2).Items)
            recycle.Execute(plan, Timeout, CancellationToken.None);
        var staging = fleet.GetServers(new[] { "Rebundle-Staging" }, new[] { "Sidekiq", "DevDebug", "TTM-Base" }, new[] { ServerStatus.Running }).Items;
        var requests = staging.Select(s => new SnapshotRequest { Server = s, ReplaceImage = s.Alias == "TTM-Base" }).ToList();
        var made = snapshots.Execute(snapshots.Plan(requests).Select(p => p.Plan!).ToList(), true, Timeout, CancellationToken.None);
        Assert.All(made, o => Assert.Null(o.Error));
        assign.Apply(assign.PlanFarmRole("Dev", "Sidekiq-1-7", null));
        assign.Apply(assign.PlanRoleImage("Sidekiq", fleet.Roles().Require("Sidekiq-1-7").ImageId));
        foreach (var plan in recycle.Plan(new[] { "Dev" }, new[] { "Sidekiq" }, 1).Items)
            recycle.Execute(plan, Timeout, CancellationToken.None);
    }
}

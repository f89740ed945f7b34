using System;
using System.Linq;
using System.Threading;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;

namespace Rebundle.Scalr.Tests;

/// <summary>
/// Scalr's rate limit (403 LimitExceeded) is waited out within a budget; a POST whose answer
/// is lost is settled by reading, never repeated blindly; polls read only what they wait for.
/// </summary>
public class ThrottleAndLostAnswerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    [Fact]
    public void A_run_through_a_limiter_that_refuses_every_few_requests_completes()
    {
        using var scalr = new LoopbackScalr();
        using var fleet = new Fleet(scalr.Connect());
        scalr.Server.LimitRequests(5, TimeSpan.FromSeconds(2));
        var recycle = new RecycleService(fleet, NullReporter.Instance);

        var done = recycle.Plan(new[] { "Production" }, null, 3).Items.SelectMany(p => recycle.Execute(p, Timeout, CancellationToken.None)).ToList();

        Assert.Equal(7, done.Count);
        Assert.Contains(scalr.Server.RequestLog, r => r.Status == 403 && r.ErrorCode == "LimitExceeded");
        // Every change was made once: refusals are not actions.
        Assert.Equal(7, scalr.Server.RequestLog.Count(r => r.Method == "POST" && r.Path.EndsWith("/servers/") && r.Status == 201));
        Assert.Equal(7, scalr.Server.RequestLog.Count(r => r.Method == "POST" && r.Path.EndsWith("/actions/terminate/") && r.Status == 200));
    }

    [Fact]
    public void Throttling_past_the_budget_is_ttm_throttled_with_backoff_that_grows()
    {
        using var scalr = new LoopbackScalr();
        var options = scalr.Options();
        options.ThrottleBudget = TimeSpan.FromSeconds(60);
        using var client = new ScalrClient(options, scalr.Clock, jitter: new Random(7));
        scalr.Server.LimitRequests(1, TimeSpan.FromHours(1));
        client.Get($"farms/{scalr.Server.World.Farms[0].Id}/");
        var start = scalr.Clock.UtcNow;

        var e = Assert.Throws<TtmException>(() => client.Get($"farms/{scalr.Server.World.Farms[0].Id}/"));

        Assert.Equal(TtmErrorCode.Throttled, e.Code);
        Assert.Equal("LimitExceeded", e.BackendCode);
        Assert.Contains("rate limit", e.Message);
        var slept = scalr.Clock.UtcNow - start;
        Assert.InRange(slept, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(60));
        // 1 s, 2 s, 4 s … (jittered): far fewer tries than a fixed short pause would make.
        Assert.InRange(scalr.Server.RequestLog.Count(r => r.Status == 403), 4, 9);
    }

    [Fact]
    public void A_lost_launch_answer_leaves_one_new_server()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var farmRole = backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Reports");
        var before = scalr.Server.World.Servers.Count;
        scalr.Server.LoseAnswers(1, (method, path) => method == "POST" && path.EndsWith("/servers/"));

        var server = backend.LaunchServer(farmRole);

        Assert.Equal(before + 1, scalr.Server.World.Servers.Count);
        Assert.Equal(scalr.Server.World.Servers.Last().Id, server.Id);
        Assert.Single(scalr.Server.RequestLog, r => r.Method == "POST" && r.Path.EndsWith("/servers/"));
    }

    [Fact]
    public void A_lost_answer_on_every_post_of_a_snapshot_leaves_no_duplicate()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var template = backend.GetRoles().Single(r => r.Name == "TTM-Base");
        var roles = scalr.Server.World.Roles.Count;
        var images = scalr.Server.World.Images.Count;
        // Each POST (register image, create role, add role image) acts, then its answer is lost.
        scalr.Server.LoseAnswers(3, (method, _) => method == "POST");

        var role = backend.CreateRole("NodeAppServer-1-7", template, "ami-0feedfacecafe0001");

        Assert.Equal(roles + 1, scalr.Server.World.Roles.Count);
        Assert.Equal(images + 1, scalr.Server.World.Images.Count);
        var made = scalr.Server.World.Roles.Single(r => r.Name == "NodeAppServer-1-7");
        Assert.Single(made.ImageIds);
        Assert.Equal(made.Id.ToString(), role.Id);
        Assert.Equal(3, scalr.Server.RequestLog.Count(r => r.ErrorCode == "AnswerLost"));
        Assert.Equal(3, scalr.Server.RequestLog.Count(r => r.Method == "POST"));
    }

    [Fact]
    public void A_lost_replace_answer_is_settled_by_reading_the_role_images()
    {
        using var scalr = new LoopbackScalr();
        using var fleet = new Fleet(scalr.Connect());
        var newAmi = fleet.Roles().Require("DataLoad").ImageId;
        scalr.Server.LoseAnswers(1, (method, path) => method == "POST" && path.EndsWith("/actions/replace/"));
        var service = new RoleAssignmentService(fleet);

        service.Apply(service.PlanRoleImage("Sidekiq", newAmi));

        Assert.Equal(newAmi, fleet.Roles().Require("Sidekiq").ImageId);
        Assert.Single(scalr.Server.RequestLog, r => r.Method == "POST" && r.Path.EndsWith("/actions/replace/"));
    }

    [Fact]
    public void A_post_that_did_not_happen_is_sent_again_after_reading()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var farmRole = backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Reports");
        var before = scalr.Server.World.Servers.Count;
        var failures = 1; // the first launch is refused (500) before acting: the read shows nothing new
        scalr.Server.FailWhen((method, path) => method == "POST" && path.EndsWith("/servers/") && failures-- > 0);

        backend.LaunchServer(farmRole);

        Assert.Equal(before + 1, scalr.Server.World.Servers.Count);
        Assert.Equal(new[] { 500, 201 }, scalr.Server.RequestLog.Where(r => r.Method == "POST").Select(r => r.Status));
    }

    [Fact]
    public void A_repeat_terminate_is_quiet_and_a_lost_terminate_answer_is_done()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var servers = backend.GetServers(new ServerQuery { Farms = new[] { "Dev" } });
        backend.TerminateServer(servers[0]);
        backend.TerminateServer(servers[0]); // Scalr: 409 UnacceptableState; already terminating is done
        scalr.Clock.Advance(TimeSpan.FromMinutes(1));
        backend.TerminateServer(servers[0]); // terminated: done too

        scalr.Server.LoseAnswers(1, (method, path) => method == "POST" && path.EndsWith("/terminate/"));
        backend.TerminateServer(servers[1]);

        Assert.Equal(2, scalr.Server.RequestLog.Count(r => r.ErrorCode == "UnacceptableState"));
        Assert.Equal(4, scalr.Server.RequestLog.Count(r => r.Method == "POST"));
        Assert.NotNull(scalr.Server.World.Servers.Single(s => s.Id == servers[1].Id).TerminateRequested);
    }

    [Fact]
    public void A_role_body_missing_os_or_category_never_leaves_the_client()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var bare = scalr.Server.World.AddRoleWithout("Bare");
        var template = backend.GetRoles().Single(r => r.Name == "Bare");
        scalr.Server.ClearLog();

        var e = Assert.Throws<TtmException>(() => backend.CreateRole("Bare-1-1", template, "ami-0feedfacecafe0003"));

        Assert.Contains("no category and no os", e.Message);
        Assert.DoesNotContain(scalr.Server.RequestLog, r => r.Method == "POST");
        Assert.NotNull(bare);
    }

    [Fact]
    public void Replace_refuses_an_image_in_another_cloud_location_and_says_where()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var role = backend.GetRoles().Single(r => r.Name == "Reports");
        lock (scalr.Server.World.Gate) scalr.Server.World.AddImage("elsewhere", "ami-0feedfacecafe0e00", "eu-west-1");

        var e = Assert.Throws<TtmException>(() => backend.SetRoleImage(role, "ami-0feedfacecafe0e00"));

        Assert.Equal(TtmErrorCode.InvalidArgument, e.Code);
        Assert.Contains("us-east-1", e.Message);
        Assert.Contains("eu-west-1", e.Message);
        Assert.DoesNotContain(scalr.Server.RequestLog, r => r.Method == "POST");
    }

    [Fact]
    public void Waiting_for_6_images_and_12_servers_costs_one_request_each_per_round()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var servers = backend.GetServers(ServerQuery.All).Take(12).Select(s => s.Id).ToList();
        var amis = scalr.Server.World.Images.Take(6).Select(i => i.CloudImageId).ToList();
        Assert.Equal(12, servers.Count);
        Assert.Equal(6, amis.Count);
        scalr.Server.ClearLog();

        Assert.Equal(12, backend.GetServers(new ServerQuery { Ids = servers }).Count);
        Assert.Equal(6, backend.GetImages(amis).Count);

        // 12 server reads and 6 filtered image reads: no farms, farm roles, roles or whole lists.
        var log = scalr.Server.RequestLog;
        Assert.Equal(18, log.Count);
        Assert.Equal(12, log.Count(r => r.Path.Contains("/servers/") && r.Query == ""));
        Assert.Equal(6, log.Count(r => r.Path.EndsWith("/images/") && r.Query.StartsWith("cloudImageId=")));
    }

    [Fact]
    public void A_long_wait_polls_less_and_less_often()
    {
        using var scalr = new LoopbackScalr();
        using var fleet = new Fleet(scalr.Connect());
        var recycle = new RecycleService(fleet, NullReporter.Instance);
        var plan = Assert.Single(recycle.Plan(new[] { "Dev" }, new[] { "Reports" }, 1).Items);
        scalr.Server.ClearLog();

        var done = Assert.Single(recycle.Execute(plan, Timeout, CancellationToken.None));

        // The replacement boots in 60 s. Polling every 5 s would read it 12 times; pauses of
        // 5, 7.5, 11.3, 16.9 and 25.3 s read it 5 times.
        var polls = scalr.Server.RequestLog.Count(r => r.Method == "GET" && r.Path.EndsWith($"/servers/{done.NewId}/"));
        Assert.InRange(polls, 4, 6);
    }
}

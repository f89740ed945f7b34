using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Tests;

public class SnapshotServiceTests : IDisposable
{
    private readonly TestFleet _t = new();

    public void Dispose() => _t.Dispose();

    private SnapshotService Service => new(_t.Fleet, _t.Reporter);

    private IReadOnlyList<SnapshotOutcome> Snapshot(params SnapshotRequest[] requests)
    {
        var plans = Service.Plan(requests);
        Assert.All(plans, p => Assert.Null(p.Error));
        return Service.Execute(plans.Select(p => p.Plan!).ToList(), wait: true, TimeSpan.FromMinutes(5), CancellationToken.None);
    }

    [Fact]
    public void A_staging_server_becomes_the_next_version_named_after_its_alias()
    {
        var server = _t.Server("Rebundle-Staging", "RailsAppServer");
        Assert.Equal("TTM-Base", server.Role);

        var outcome = Assert.Single(Snapshot(new SnapshotRequest { Server = server }));

        Assert.Null(outcome.Error);
        Assert.Equal("RailsAppServer-1-7", outcome.Role!.Name);
        var created = _t.Fleet.Roles().Require("RailsAppServer-1-7");
        Assert.Equal(outcome.Image!.Id, created.ImageId);
        Assert.Equal(ImageStatus.Available, _t.Backend.GetImages(new[] { created.ImageId }).Single().Status);
        Assert.Equal(server.Id, _t.Backend.GetImages(new[] { created.ImageId }).Single().SourceServerId);
    }

    [Fact]
    public void Major_bumps_to_the_next_major_version()
    {
        var outcome = Assert.Single(Snapshot(new SnapshotRequest { Server = _t.Server("Rebundle-Staging", "RailsAppServer"), Major = true }));
        Assert.Equal("RailsAppServer-2-0", outcome.Role!.Name);
    }

    [Fact]
    public void A_role_with_no_versions_starts_at_1_0()
    {
        _t.Backend.SetFarmRoleRole(_t.Fleet.RequireFarmRole("Rebundle-Staging", "TTM-Base"), "TTM-Base");
        var outcome = Assert.Single(Snapshot(new SnapshotRequest { Server = _t.Server("Rebundle-Staging", "TTM-Base") }));
        Assert.Equal("TTM-Base-1-0", outcome.Role!.Name);
    }

    [Fact]
    public void An_existing_versioned_role_is_never_overwritten()
    {
        var before = _t.Fleet.Roles().Require("RailsAppServer-1-6");
        var plan = Assert.Single(Service.Plan(new[] { new SnapshotRequest { Server = _t.Server("Rebundle-Staging", "RailsAppServer"), Version = RoleVersion.Parse("1-6") } }));
        Assert.Null(plan.Plan);
        Assert.Equal(TtmErrorCode.RoleAlreadyExists, plan.Error!.Code);
        Assert.Contains("1-7", plan.Error.Message);
        Assert.Equal(before, _t.Fleet.Roles().Require("RailsAppServer-1-6"));
    }

    [Fact]
    public void Snapshotting_twice_to_the_same_name_is_refused_the_second_time()
    {
        var request = new SnapshotRequest { Server = _t.Server("Rebundle-Staging", "Sidekiq"), Version = RoleVersion.Parse("1-9") };
        Assert.Null(Assert.Single(Snapshot(request)).Error);
        var again = Assert.Single(Service.Plan(new[] { request }));
        Assert.Equal(TtmErrorCode.RoleAlreadyExists, again.Error!.Code);
    }

    [Fact]
    public void Two_servers_of_one_alias_in_one_batch_cannot_both_take_the_name()
    {
        var production = _t.Servers("Production", "RailsAppServer");
        var plans = Service.Plan(production.Select(s => new SnapshotRequest { Server = s }).ToList());
        Assert.Equal("RailsAppServer-1-7", plans[0].Plan!.TargetRole);
        Assert.Equal(TtmErrorCode.DuplicateInput, plans[1].Error!.Code);
    }

    [Fact]
    public void A_server_that_is_not_running_is_refused()
    {
        _t.Backend.Simulate(o => { o.BootDelay = TimeSpan.FromMinutes(5); o.RespawnDelay = TimeSpan.Zero; });
        _t.Backend.TerminateServer(_t.Server("Rebundle-Staging", "NodeAppServer"));
        var respawned = _t.Server("Rebundle-Staging", "NodeAppServer");
        Assert.Equal(ServerStatus.Pending, respawned.Status);

        var plan = Assert.Single(Service.Plan(new[] { new SnapshotRequest { Server = respawned } }));

        Assert.Equal(TtmErrorCode.ServerNotRunning, plan.Error!.Code);
        Assert.Contains("NodeAppServer.1 of farm Rebundle-Staging is Pending", plan.Error.Message);
    }

    [Fact]
    public void A_stale_server_object_is_checked_against_the_fleet()
    {
        var stale = _t.Server("Rebundle-Staging", "Sidekiq");
        _t.Backend.TerminateServer(stale);
        var plan = Assert.Single(Service.Plan(new[] { new SnapshotRequest { Server = stale } }));
        Assert.Equal(TtmErrorCode.ServerNotRunning, plan.Error!.Code);
        Assert.Contains("Terminated", plan.Error.Message);
    }

    [Fact]
    public void A_failed_image_leaves_no_role_behind()
    {
        _t.Backend.Simulate(o => o.FailImage.Add("NodeAppServer-1-7"));
        var outcomes = Snapshot(
            new SnapshotRequest { Server = _t.Server("Rebundle-Staging", "NodeAppServer") },
            new SnapshotRequest { Server = _t.Server("Rebundle-Staging", "RailsAppServer") });

        Assert.Equal(TtmErrorCode.ImageFailed, outcomes[0].Error!.Code);
        Assert.Contains("NodeAppServer-1-7 was not created", outcomes[0].Error!.Message);
        Assert.Null(_t.Fleet.Roles().Find("NodeAppServer-1-7"));
        Assert.Equal("RailsAppServer-1-7", outcomes[1].Role!.Name);
    }

    [Fact]
    public void An_image_that_never_finishes_times_out_without_a_role()
    {
        _t.Backend.Simulate(o => o.ImageDelay = TimeSpan.FromHours(2));
        var plan = Service.Plan(new[] { new SnapshotRequest { Server = _t.Server("Rebundle-Staging", "Sidekiq") } }).Single().Plan!;
        var outcome = Service.Execute(new[] { plan }, wait: true, TimeSpan.FromMinutes(1), CancellationToken.None).Single();
        Assert.Equal(TtmErrorCode.ImageTimeout, outcome.Error!.Code);
        Assert.Null(_t.Fleet.Roles().Find("Sidekiq-1-7"));
    }

    [Fact]
    public void Images_of_many_servers_are_waited_for_together()
    {
        _t.Backend.Simulate(o => o.ImageDelay = TimeSpan.FromSeconds(30));
        var started = _t.Clock.UtcNow;
        var servers = _t.Servers("Rebundle-Staging").Where(s => s.Alias != "TTM-Base").ToList();
        var outcomes = Snapshot(servers.Select(s => new SnapshotRequest { Server = s }).ToArray());
        Assert.Equal(5, outcomes.Count(o => o.Role != null));
        // Five 30-second images in parallel take 30 seconds, not 150.
        Assert.InRange((_t.Clock.UtcNow - started).TotalSeconds, 30, 31);
        Assert.Contains(_t.Reporter.Progress, p => p.Activity.Contains("images") && p.Completed);
    }

    [Fact]
    public void Replace_image_swaps_the_snapshot_into_the_servers_own_role()
    {
        var baseServer = _t.Server("Rebundle-Staging", "TTM-Base");
        var before = _t.Fleet.Roles().Require("TTM-Base").ImageId;
        var outcome = Assert.Single(Snapshot(new SnapshotRequest { Server = baseServer, ReplaceImage = true }));
        Assert.Equal("TTM-Base", outcome.Role!.Name);
        Assert.NotEqual(before, outcome.Role.ImageId);
        Assert.Equal(outcome.Role.ImageId, _t.Fleet.Roles().Require("TTM-Base").ImageId);
        Assert.Null(_t.Fleet.Roles().Find("TTM-Base-1-0"));
    }

    [Fact]
    public void Replace_image_refuses_not_to_wait()
    {
        var plan = Service.Plan(new[] { new SnapshotRequest { Server = _t.Server("Rebundle-Staging", "TTM-Base"), ReplaceImage = true } }).Single().Plan!;
        var error = Assert.Throws<TtmException>(() => Service.Execute(new[] { plan }, wait: false, TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.Equal(TtmErrorCode.InvalidArgument, error.Code);
    }
}

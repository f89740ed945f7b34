using System;
using System.Linq;
using System.Threading;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>The runbook services of Rebundle.Core, unchanged, walking the runbook on EC2.</summary>
public class RunbookTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(15);

    private static Server StagingServer(AwsFleet fleet, string alias) =>
        fleet.Fleet.GetServers(new[] { "Rebundle-Staging" }, new[] { alias }, null).Items.Single();

    [Fact]
    public void Step_5_snapshots_staging_servers_into_the_next_versioned_roles_together()
    {
        using var fleet = new AwsFleet(configure: s => s.ImageTime = TimeSpan.FromMinutes(4));
        var snapshots = new SnapshotService(fleet.Fleet, new RecordingReporter());
        var servers = new[] { StagingServer(fleet, "RailsAppServer"), StagingServer(fleet, "Sidekiq") };

        var plans = snapshots.Plan(servers.Select(s => new SnapshotRequest { Server = s }).ToList());
        fleet.Ec2.ClearRequests();
        var outcomes = snapshots.Execute(plans.Select(p => p.Plan!).ToList(), wait: true, Timeout, CancellationToken.None);

        Assert.All(outcomes, o => Assert.Null(o.Error));
        Assert.Equal(new[] { "RailsAppServer-1-7", "Sidekiq-1-7" }, outcomes.Select(o => o.Role!.Name));
        var roles = fleet.Fleet.Roles();
        Assert.Equal(outcomes[0].Image!.Id, roles.Require("RailsAppServer-1-7").ImageId);
        Assert.Equal("1-8", roles.NextVersion("RailsAppServer", major: false).ToString());
        // One DescribeImages poll per round (every 5 s of the 4 minutes) for both images, never one per image.
        Assert.InRange(fleet.Calls("DescribeImages"), 2, 4 * 60 / 5 + 1);
        Assert.All(fleet.Ec2.Requests.Where(r => r.Action == "DescribeImages"), r => Assert.Equal(2, r.Parameters.Keys.Count(k => k.StartsWith("Filter.1.Value."))));
    }

    [Fact]
    public void Step_1_replace_image_gives_the_base_role_a_new_default_version()
    {
        using var fleet = new AwsFleet();
        var snapshots = new SnapshotService(fleet.Fleet, new RecordingReporter());
        var server = StagingServer(fleet, "TTM-Base");
        var oldImage = fleet.Fleet.Roles().Require("TTM-Base").ImageId;

        var plan = snapshots.Plan(new[] { new SnapshotRequest { Server = server, ReplaceImage = true } }).Single().Plan!;
        var outcome = snapshots.Execute(new[] { plan }, wait: true, Timeout, CancellationToken.None).Single();

        Assert.Null(outcome.Error);
        var template = fleet.Ec2.LaunchTemplateNamed("role/TTM-Base")!;
        Assert.Equal(2, template.DefaultVersion);
        Assert.Equal(oldImage, template.Versions[0].Data["ImageId"]);
        Assert.Equal(outcome.Image!.Id, fleet.Fleet.Roles().Require("TTM-Base").ImageId);
    }

    [Fact]
    public void A_snapshot_whose_image_fails_leaves_no_role_behind()
    {
        using var fleet = new AwsFleet();
        fleet.Ec2.Faults.FailingImageNames.Add("NodeAppServer-*");
        var snapshots = new SnapshotService(fleet.Fleet, new RecordingReporter());
        var plan = snapshots.Plan(new[] { new SnapshotRequest { Server = StagingServer(fleet, "NodeAppServer") } }).Single().Plan!;
        fleet.Ec2.ClearRequests();

        var outcome = snapshots.Execute(new[] { plan }, wait: true, Timeout, CancellationToken.None).Single();

        Assert.Equal(TtmErrorCode.ImageFailed, outcome.Error!.Code);
        Assert.Null(outcome.Role);
        Assert.Null(fleet.Ec2.LaunchTemplateNamed("role/NodeAppServer-1-7"));
        Assert.Equal(new[] { "CreateImage" }, fleet.Mutations.Select(m => m.Action));
        Assert.DoesNotContain(fleet.Fleet.Roles().All, r => r.Name == "NodeAppServer-1-7");
    }

    [Fact]
    public void Step_6_puts_the_new_versions_into_the_dev_farm()
    {
        using var fleet = new AwsFleet();
        var assignments = new RoleAssignmentService(fleet.Fleet);

        var change = assignments.PlanFarmRole("Dev", "Sidekiq-1-6", alias: null);
        var changed = assignments.Apply(change);

        Assert.Equal("Sidekiq", changed.Alias);
        Assert.Equal("Sidekiq-1-6", fleet.Ec2.LaunchTemplateNamed("farm/Dev/Sidekiq")!.Tags["ttm:role"]);
        Assert.Equal("Sidekiq", fleet.Ec2.LaunchTemplateNamed("farm/Production/Sidekiq")!.Tags["ttm:role"]);
    }

    [Fact]
    public void Step_7_production_roles_take_the_versioned_roles_image()
    {
        using var fleet = new AwsFleet();
        var newImage = fleet.Ec2.AddImage("Reports-1-7");
        var source = fleet.Fleet.Roles().Require("Reports");
        fleet.Backend.CreateRole("Reports-1-7", source, newImage.Id);
        var assignments = new RoleAssignmentService(fleet.Fleet);

        var change = assignments.PlanRoleImage("Reports", newImage.Id);
        assignments.Apply(change);

        Assert.Equal(new[] { "Dev", "Production" }, change.FarmsAffected.OrderBy(f => f));
        Assert.Equal(newImage.Id, fleet.Fleet.Roles().Require("Reports").ImageId);
    }

    [Fact]
    public void Step_8_recycles_a_farm_launching_first_and_terminating_only_running_replacements()
    {
        using var fleet = new AwsFleet();
        var recycle = new RecycleService(fleet.Fleet, new RecordingReporter());
        var before = fleet.Fleet.GetServers(new[] { "Production" }, null, null).Items;
        var plan = recycle.Plan(new[] { "Production" }, null, batchSize: 3).Items.Single();
        fleet.Ec2.ClearRequests();

        var done = recycle.Execute(plan, Timeout, CancellationToken.None);

        Assert.Equal(7, done.Count);
        Assert.Equal(3, plan.Batches.Count);
        var after = fleet.Fleet.GetServers(new[] { "Production" }, null, new[] { ServerStatus.Running }).Items;
        Assert.Equal(7, after.Count);
        Assert.Empty(after.Select(s => s.Id).Intersect(before.Select(s => s.Id)));
        Assert.Equal(new[] { "RailsAppServer.3", "RailsAppServer.4" }, done.Where(d => d.Alias == "RailsAppServer").Select(d => d.NewServer).OrderBy(n => n));
        // The window's three launches come before any terminate; the olds go in batched calls (one per round), not one each.
        var mutations = fleet.Mutations.Select(m => m.Action).ToList();
        Assert.Equal("RunInstances", mutations.First());
        var launched = fleet.Ec2.Requests.Where(r => r.Action == "RunInstances").Sum(r => int.Parse(r.Parameters["MaxCount"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(7, launched);
        Assert.Equal(3, fleet.Ec2.Requests.TakeWhile(r => r.Action != "TerminateInstances").Where(r => r.Action == "RunInstances").Sum(r => int.Parse(r.Parameters["MaxCount"], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.InRange(mutations.Count(a => a == "TerminateInstances"), 1, 6);
    }

    [Fact]
    public void A_replacement_that_never_runs_times_out_keeps_the_old_server_and_terminates_the_replacement()
    {
        using var fleet = new AwsFleet();
        fleet.Ec2.Faults.StallLaunches = 1;
        var recycle = new RecycleService(fleet.Fleet, new RecordingReporter());
        var old = fleet.Fleet.GetServers(new[] { "Dev" }, new[] { "RailsAppServer" }, null).Items.Single();
        var plan = recycle.Plan(new[] { "Dev" }, new[] { "RailsAppServer" }, batchSize: 1).Items.Single();

        var error = Assert.Throws<RecycleStoppedException>(() => recycle.Execute(plan, TimeSpan.FromMinutes(5), CancellationToken.None));

        Assert.Equal(TtmErrorCode.ReplacementTimeout, error.Code);
        Assert.Empty(error.Completed);
        Assert.Equal("running", fleet.Ec2.StateOf(fleet.Ec2.Instances.Single(i => i.Id == old.Id)));
        var replacement = fleet.Ec2.Instances.Single(i => i.Tags["ttm:alias"] == "RailsAppServer" && i.Tags["ttm:farm"] == "Dev" && i.Id != old.Id);
        Assert.Equal("shutting-down", fleet.Ec2.StateOf(replacement));
        Assert.Contains("RailsAppServer.1 was kept", error.Message);
    }

    [Fact]
    public void A_replacement_that_fails_to_launch_stops_the_recycle_before_the_next_server()
    {
        using var fleet = new AwsFleet();
        fleet.Ec2.Faults.FailLaunches = 1;
        var recycle = new RecycleService(fleet.Fleet, new RecordingReporter());
        var plan = recycle.Plan(new[] { "Dev" }, null, batchSize: 1).Items.Single();
        fleet.Ec2.ClearRequests();

        var error = Assert.Throws<RecycleStoppedException>(() => recycle.Execute(plan, Timeout, CancellationToken.None));

        Assert.Equal(TtmErrorCode.ReplacementFailed, error.Code);
        Assert.Equal(1, fleet.Calls("RunInstances"));
        Assert.Equal(6, fleet.Fleet.GetServers(new[] { "Dev" }, null, new[] { ServerStatus.Running }).Items.Count);
    }

    [Fact]
    public void A_replacement_whose_status_checks_fail_is_terminated_and_the_old_server_kept()
    {
        using var fleet = new AwsFleet();
        fleet.Ec2.Faults.ImpairLaunches = 1;
        var recycle = new RecycleService(fleet.Fleet, new RecordingReporter());
        var old = fleet.Fleet.GetServers(new[] { "Dev" }, new[] { "NodeAppServer" }, null).Items.Single();
        var plan = recycle.Plan(new[] { "Dev" }, new[] { "NodeAppServer" }, batchSize: 1).Items.Single();

        var error = Assert.Throws<RecycleStoppedException>(() => recycle.Execute(plan, Timeout, CancellationToken.None));

        Assert.Equal(TtmErrorCode.ReplacementFailed, error.Code);
        Assert.Equal("running", fleet.Ec2.StateOf(fleet.Ec2.Instances.Single(i => i.Id == old.Id)));
        Assert.Single(fleet.Mutations, m => m.Action == "TerminateInstances" && m.Parameters["InstanceId.1"] != old.Id);
    }

    [Fact]
    public void A_recycle_cancelled_on_its_first_poll_keeps_the_old_server_and_terminates_the_replacement()
    {
        using var fleet = new AwsFleet();
        fleet.Ec2.Faults.StallLaunches = 1;
        using var cancel = new CancellationTokenSource();
        var recycle = new RecycleService(fleet.Fleet, new CancelOnFirstPoll(cancel));
        var old = fleet.Fleet.GetServers(new[] { "Dev" }, new[] { "Reports" }, null).Items.Single();
        var plan = recycle.Plan(new[] { "Dev" }, new[] { "Reports" }, batchSize: 1).Items.Single();
        fleet.Ec2.ClearRequests();

        Assert.ThrowsAny<OperationCanceledException>(() => recycle.Execute(plan, Timeout, cancel.Token));

        // The wait was under way (one launch, one poll), and Ctrl+C left the farm as it was.
        Assert.Equal(1, fleet.Calls("RunInstances"));
        Assert.Equal("running", fleet.Ec2.StateOf(fleet.Ec2.Instances.Single(i => i.Id == old.Id)));
        var replacement = fleet.Ec2.Instances.Single(i => i.Tags["ttm:alias"] == "Reports" && i.Tags["ttm:farm"] == "Dev" && i.Id != old.Id);
        Assert.Equal("shutting-down", fleet.Ec2.StateOf(replacement));
        Assert.Equal(6, fleet.Fleet.GetServers(new[] { "Dev" }, null, new[] { ServerStatus.Running }).Items.Count);
    }
}

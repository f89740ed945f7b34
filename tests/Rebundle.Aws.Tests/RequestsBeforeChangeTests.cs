using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Ec2Endpoint;
using Rebundle.Rebundling;
using Rebundle.Runbook;
using Rebundle.Safety;
using Xunit;
using Xunit.Abstractions;

namespace Rebundle.Aws.Tests;

/// <summary>
/// What a command costs on EC2 before it changes anything (issue 23), counted on the endpoint's
/// request log: every request, the lease's included. Each list is read once per planning pass,
/// and only what can have changed is read again: the servers, once the lease is held.
/// </summary>
public class RequestsBeforeChangeTests
{
    private const string Dlt = "DescribeLaunchTemplates", Versions = "DescribeLaunchTemplateVersions", Instances = "DescribeInstances", Status = "DescribeInstanceStatus";

    /// <summary>
    /// Invoke-TtmRecycle's requests before its first RunInstances, in order and what each is for:
    /// the farm roles (which farms the scope names: one read of every farm's), the lease (is it
    /// free, our tag, read back after the settle time), the farms' servers with their status
    /// checks under the lease, and the launch's own check (the role the farm role runs now, the
    /// free indexes). Three farms side by side cost the same: each read covers every farm.
    /// </summary>
    private static readonly string[] RecycleBeforeLaunch =
    {
        Dlt,                           // farm roles of every farm: resolves the scope
        Dlt, "CreateTags", Dlt,        // the lease: free?, tag, read back
        Instances, Status,             // the farms' servers, under the lease
        Dlt, Instances,                // the launch's check: its farm role now, its free indexes
    };

    private readonly ITestOutputHelper _output;

    public RequestsBeforeChangeTests(ITestOutputHelper output) => _output = output;

    private static AwsFleet Fleet() => new(options: new AwsConnectionOptions { LeaseRenewalCheck = TimeSpan.FromHours(1) });

    /// <summary>As Invoke-TtmRecycle runs it: audited, its farms leased for the command, planned under the lease, then recycled.</summary>
    private static IReadOnlyList<RecycledServer> Recycle(AwsFleet fleet, string[] farms, bool sideBySide, Action? whileLeasing = null)
    {
        var audited = Runbook.Fleet.Audited(fleet.Backend, new NoAudit(), "ops@host", leases: fleet.Backend.Capability<IFarmLeases>());
        using var command = audited.ChangeLeases.Open("Invoke-TtmRecycle");
        using var inUse = audited.ChangeLeases.Use(command);
        var service = new RecycleService(audited, new RecordingReporter());
        var plans = service.PlanUnderLease(RecycleScope.Of(farms), batchSize: 1, leased =>
        {
            whileLeasing?.Invoke();
            command.Hold(leased, breakExpired: false);
        });
        return service.Execute(plans.Items, new RecycleOptions { Timeout = TimeSpan.FromMinutes(15), SideBySide = sideBySide }, CancellationToken.None);
    }

    private List<string> Before(AwsFleet fleet, Func<LoggedRequest, bool> change)
    {
        var before = fleet.Ec2.Requests.TakeWhile(r => !change(r)).ToList();
        _output.WriteLine($"{before.Count} before the first change: {string.Join(", ", before.Select(r => r.Action))}");
        return before.Select(r => r.Action).ToList();
    }

    [Fact]
    public void Recycling_a_farm_costs_eight_requests_before_its_first_RunInstances_three_of_them_the_lease()
    {
        using var fleet = Fleet();

        var done = Recycle(fleet, new[] { "Dev" }, sideBySide: false);

        Assert.Equal(6, done.Count);
        Assert.Equal(RecycleBeforeLaunch, Before(fleet, r => r.Action == "RunInstances"));
        // The one change among them is the lease's own tag.
        var tag = Assert.Single(fleet.Ec2.Requests.TakeWhile(r => r.Action != "RunInstances"), r => r.IsMutating);
        Assert.Equal("ttm:lease", tag.Parameters["Tag.1.Key"]);
    }

    [Fact]
    public void Three_farms_side_by_side_cost_the_same_eight_requests_before_the_first_RunInstances()
    {
        using var fleet = Fleet();
        var farms = new[] { "Dev", "Production", "Rebundle-Staging" };
        var seeded = fleet.Backend.GetServers(new ServerQuery { Farms = farms }).Count;
        fleet.Ec2.ClearRequests();

        var done = Recycle(fleet, farms, sideBySide: true);

        Assert.Equal(seeded, done.Count);
        Assert.Equal(farms, done.Select(r => r.Farm).Distinct().OrderBy(f => f, StringComparer.Ordinal));
        Assert.Equal(RecycleBeforeLaunch, Before(fleet, r => r.Action == "RunInstances"));
    }

    [Fact]
    public void The_plan_judges_the_servers_as_they_are_once_the_lease_is_held()
    {
        using var fleet = Fleet();
        // Until the lease is held, another run may still launch: a replacement it leaves appears just then.
        var template = fleet.Ec2.LaunchTemplateNamed("farm/Dev/Sidekiq")!;
        var image = fleet.Ec2.Instances.First(i => i.Tags["ttm:farm"] == "Dev" && i.Tags["ttm:alias"] == "Sidekiq").ImageId;
        var reporter = new RecordingReporter();
        var audited = Runbook.Fleet.Audited(fleet.Backend, new NoAudit(), "ops@host", leases: fleet.Backend.Capability<IFarmLeases>());
        using var command = audited.ChangeLeases.Open("Invoke-TtmRecycle");

        var plans = new RecycleService(audited, reporter).PlanUnderLease(RecycleScope.Of(new[] { "Dev" }), 1, leased =>
        {
            fleet.Ec2.AddInstance(image, RunbookSeed.ServerTags("Dev", "Sidekiq", "Sidekiq", 2), template.Id);
            command.Hold(leased, breakExpired: false);
        });

        // Seen as the surplus it is (two live for a count of one), not replaced as an old server.
        var plan = plans.Items.Single();
        Assert.Equal("Sidekiq.2", Assert.Single(plan.Surplus).Server.Name);
        Assert.DoesNotContain(plan.Batches.SelectMany(b => b), s => s.Name == "Sidekiq.2");
        Assert.Contains(reporter.Warnings, w => w.Contains("Farm role Dev/Sidekiq has 2 live servers for a count of 1"));
    }

    [Fact]
    public void Snapshotting_five_roles_reads_roles_and_servers_once_and_the_settings_they_copy_once()
    {
        using var fleet = Fleet();
        fleet.Clock.Advance(TimeSpan.FromMinutes(10));
        var audited = Runbook.Fleet.Audited(fleet.Backend, new NoAudit(), "ops@host");
        var servers = audited.GetServers(new[] { "Rebundle-Staging" }, null, new[] { ServerStatus.Running }).Items.Where(s => s.Alias != "TTM-Base").ToList();
        fleet.Ec2.ClearRequests();
        var service = new SnapshotService(audited, new RecordingReporter());

        var outcomes = service.Execute(service.Plan(servers.Select(s => new SnapshotRequest { Server = s }).ToList()).Select(p => p.Plan!).ToList(),
            wait: true, TimeSpan.FromMinutes(30), CancellationToken.None);

        Assert.Equal(5, outcomes.Count(o => o.Error == null && o.Role != null));
        // Before the first CreateImage: the roles (names, then their images) and the five servers with their checks.
        Assert.Equal(new[] { Dlt, Versions, Instances, Status }, Before(fleet, r => r.Action == "CreateImage"));
        // The five roles copy the settings of the one role their servers run: read once, not five times.
        var lastImage = fleet.Ec2.Requests.ToList().FindLastIndex(r => r.Action == "CreateImage");
        var making = fleet.Ec2.Requests.Skip(lastImage + 1).Where(r => r.Action != "DescribeImages").Select(r => r.Action).ToList();
        Assert.Equal(new[] { Versions }.Concat(Enumerable.Repeat("CreateLaunchTemplate", 5)), making);
    }

    [Fact]
    public void A_rebundle_WhatIf_reads_each_list_once_then_checks_each_permission_once_and_changes_nothing()
    {
        using var fleet = Fleet();
        fleet.Clock.Advance(TimeSpan.FromMinutes(10));
        var audited = Runbook.Fleet.Audited(fleet.Backend, new NoAudit(), "ops@host");
        var names = audited.Names;
        fleet.Ec2.ClearRequests();
        var runner = new RebundleRunner(audited, new MemoryJournal(), new RecordingReporter());

        var preview = runner.Preview(new RebundleOptions { StagingFarm = names.StagingFarm, TestFarm = names.TestFarm, ProductionFarm = names.ProductionFarm, SkipOsUpdate = true });

        Assert.Equal(5, preview.Plan.Snapshots.Count);
        Assert.Empty(preview.MissingPermissions);
        var requests = fleet.Ec2.Requests;
        _output.WriteLine(string.Join(", ", requests.Select(r => r.Action + (r.IsDryRun ? " (DryRun)" : ""))));
        // Farm roles of every farm, roles (names, images), the three farms' servers with their checks.
        Assert.Equal(new[] { Dlt, Dlt, Versions, Instances, Status }, requests.Where(r => !r.IsDryRun).Select(r => r.Action));
        // Then one DryRun per EC2 action the run needs, and nothing else.
        Assert.Equal(new[] { "CreateImage", "CreateLaunchTemplate", "CreateLaunchTemplateVersion", "ModifyLaunchTemplate", "CreateTags", "DeleteTags", "RunInstances", "TerminateInstances" },
            requests.Where(r => r.IsDryRun).Select(r => r.Action));
        Assert.Empty(fleet.Mutations);
    }

    // ---- The shared view never outlives a change ---------------------------------------------

    private static IDisposable SharedView(AwsFleet fleet) => fleet.Backend.Capability<ISharedListReads>()!.ReadEachListOnce();

    [Fact]
    public void In_a_shared_view_a_list_read_twice_costs_one_request_and_after_the_view_it_is_read_again()
    {
        using var fleet = Fleet();
        var dev = new ServerQuery { Farms = new[] { "Dev" } };
        using (SharedView(fleet))
        {
            fleet.Backend.GetFarms();
            fleet.Backend.GetFarmRoles(new[] { "Dev" });
            fleet.Backend.GetFarmRoles();
            fleet.Backend.GetServers(dev);
            fleet.Backend.GetServers(dev);
            fleet.Backend.GetRoles();
            fleet.Backend.GetRoles();
        }
        Assert.Equal(new[] { Dlt, Instances, Status, Dlt, Versions }, fleet.Ec2.Requests.Select(r => r.Action));

        fleet.Ec2.ClearRequests();
        fleet.Backend.GetFarms();
        fleet.Backend.GetFarmRoles();
        Assert.Equal(2, fleet.Calls(Dlt));
    }

    [Fact]
    public void In_a_shared_view_a_launch_a_termination_or_a_farm_role_change_is_read_back_as_it_is_now()
    {
        using var fleet = Fleet();
        var sidekiq = new ServerQuery { Farms = new[] { "Dev" }, Aliases = new[] { "Sidekiq" } };
        using var view = SharedView(fleet);
        var farmRole = fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Sidekiq");
        var old = Assert.Single(fleet.Backend.GetServers(sidekiq));

        var launched = Assert.Single(fleet.Backend.LaunchServers(farmRole, 1));
        Assert.Equal(new[] { old.Id, launched.Id }.OrderBy(id => id), fleet.Backend.GetServers(sidekiq).Select(s => s.Id).OrderBy(id => id));

        fleet.Backend.TerminateServers(new[] { old });
        Assert.Equal(ServerStatus.Terminating, fleet.Backend.GetServers(sidekiq).Single(s => s.Id == old.Id).Status);

        fleet.Backend.SetFarmRoleRole(farmRole, "Sidekiq-1-6");
        Assert.Equal("Sidekiq-1-6", fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Sidekiq").Role);
    }

    [Fact]
    public void In_a_shared_view_a_role_given_a_new_image_is_read_back_with_it_and_its_settings_are_read_again()
    {
        using var fleet = Fleet();
        var image = fleet.Ec2.AddImage("Sidekiq-new").Id;
        using var view = SharedView(fleet);
        var role = fleet.Backend.GetRoles().Single(r => r.Name == "Sidekiq");
        int SettingsReads() => fleet.Ec2.Requests.Count(r => r.Action == Versions && r.Parameters.TryGetValue("LaunchTemplateName", out var name) && name == "role/Sidekiq");

        fleet.Backend.CreateRole("Sidekiq-9-0", role, image);
        fleet.Backend.CreateRole("Sidekiq-9-1", role, image);
        Assert.Equal(1, SettingsReads());

        fleet.Backend.SetRoleImage(role, image);

        Assert.Equal(image, fleet.Backend.GetRoles().Single(r => r.Name == "Sidekiq").ImageId);
        fleet.Backend.CreateRole("Sidekiq-9-2", role with { ImageId = image }, image);
        Assert.Equal(2, SettingsReads());
    }
}

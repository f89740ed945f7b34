using System;
using System.Linq;
using System.Threading;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;

namespace Rebundle.Scalr.Tests;

/// <summary>The runbook services of Rebundle.Core, unchanged, on the loopback Scalr.</summary>
public class RunbookOnScalrTests
{
    [Fact]
    public void Step6_swaps_the_latest_versioned_role_into_the_dev_farm()
    {
        using var scalr = new LoopbackScalr();
        using var fleet = new Fleet(scalr.Connect());
        var service = new RoleAssignmentService(fleet);
        var change = service.PlanFarmRole("Dev", "RailsAppServer-1-6", alias: null);
        Assert.Equal("RailsAppServer", change.FarmRole.Role);
        var updated = service.Apply(change);
        Assert.Equal("RailsAppServer-1-6", updated.Role);

        var reread = fleet.Backend.GetFarmRoles(new[] { "Dev" });
        Assert.Equal("RailsAppServer-1-6", reread.Single(r => r.Alias == "RailsAppServer").Role);
        Assert.Equal("NodeAppServer", reread.Single(r => r.Alias == "NodeAppServer").Role);
        Assert.Equal("RailsAppServer", fleet.Backend.GetFarmRoles(new[] { "Production" }).Single(r => r.Alias == "RailsAppServer").Role);
        Assert.Equal(1, scalr.Count("PATCH", $"farm-roles/{change.FarmRole.Id}/"));
    }

    [Fact]
    public void Step7_replaces_the_production_roles_image_through_the_replace_action()
    {
        using var scalr = new LoopbackScalr();
        using var fleet = new Fleet(scalr.Connect());
        var roles = fleet.Roles();
        var newAmi = roles.Require("DataLoad").ImageId;
        var service = new RoleAssignmentService(fleet);
        var change = service.PlanRoleImage("Sidekiq", newAmi);
        Assert.Equal(new[] { "Dev", "Production" }, change.FarmsAffected.OrderBy(f => f));
        var role = service.Apply(change);
        Assert.Equal(newAmi, role.ImageId);
        Assert.Equal(newAmi, fleet.Roles().Require("Sidekiq").ImageId);
        Assert.Equal(roles.Require("Sidekiq-1-6").ImageId, fleet.Roles().Require("Sidekiq-1-6").ImageId); // the versioned role keeps its own
        Assert.Single(scalr.Server.RequestLog, r => r.Method == "POST" && r.Path.EndsWith("/actions/replace/"));
    }

    [Fact]
    public void A_new_ami_is_registered_in_scalr_before_a_role_is_made_with_it()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var template = backend.GetRoles().Single(r => r.Name == "TTM-Base");
        var role = backend.CreateRole("NodeAppServer-1-7", template, "ami-0feedfacecafe0001");
        Assert.Equal("NodeAppServer-1-7", role.Name);
        Assert.Equal(new RoleVersion(1, 7), role.Version);
        var reread = backend.GetRoles().Single(r => r.Name == "NodeAppServer-1-7");
        Assert.Equal("ami-0feedfacecafe0001", reread.ImageId);
        Assert.Equal(1, scalr.Count("POST", "images/"));
        Assert.Equal(1, scalr.Count("POST", "roles/"));
        Assert.Equal(1, scalr.Count("POST", $"roles/{role.Id}/images/"));
        Assert.Equal(ImageStatus.Available, Assert.Single(backend.GetImages(new[] { "ami-0feedfacecafe0001" })).Status);
    }

    [Fact]
    public void A_role_made_by_a_rebundle_run_carries_the_run_id_in_its_description()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var template = backend.GetRoles().Single(r => r.Name == "TTM-Base");

        var role = backend.CreateRole("NodeAppServer-1-7", template, "ami-0feedfacecafe0001", "20260401-090000-0badcafe");

        Assert.Equal("20260401-090000-0badcafe", role.CreatedByRun);
        var roles = backend.GetRoles();
        Assert.Equal("20260401-090000-0badcafe", roles.Single(r => r.Name == "NodeAppServer-1-7").CreatedByRun);
        Assert.Null(roles.Single(r => r.Name == "TTM-Base").CreatedByRun);
    }

    [Fact]
    public void A_role_that_cannot_take_its_image_is_removed_again()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var template = backend.GetRoles().Single(r => r.Name == "TTM-Base");
        var before = backend.GetRoles().Count;
        // Every retry of attaching the image fails: the half-made role must not stay.
        scalr.Server.FailWhen((method, path) => method == "POST" && path.Contains("/roles/") && path.EndsWith("/images/"));
        var e = Assert.Throws<TtmException>(() => backend.CreateRole("Reports-1-7", template, "ami-0feedfacecafe0002"));
        scalr.Server.FailWhen(null);
        Assert.Equal(TtmErrorCode.BackendError, e.Code);
        Assert.Equal(before, backend.GetRoles().Count);
        Assert.DoesNotContain(backend.GetRoles(), r => r.Name == "Reports-1-7");
    }

    [Fact]
    public void Steps_4_and_8_recycle_production_in_batches_launching_before_terminating()
    {
        using var scalr = new LoopbackScalr();
        using var fleet = new Fleet(scalr.Connect());
        var service = new RecycleService(fleet, NullReporter.Instance);
        var plans = service.Plan(new[] { "Production" }, null, batchSize: 2);
        var plan = Assert.Single(plans.Items);
        Assert.Equal(7, plan.ServerCount);
        Assert.Equal(4, plan.Batches.Count);

        var before = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Production" } });
        var done = service.Execute(plan, TimeSpan.FromMinutes(10), CancellationToken.None);
        Assert.Equal(7, done.Count);
        Assert.All(done, r => Assert.NotEqual(r.OldId, r.NewId));

        scalr.Clock.Advance(TimeSpan.FromMinutes(1)); // let the terminations finish
        var after = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, IncludeTerminated = true });
        var running = after.Where(s => s.Status == ServerStatus.Running).ToList();
        Assert.Equal(7, running.Count);
        Assert.DoesNotContain(running, s => before.Any(b => b.Id == s.Id));
        Assert.All(before, old => Assert.Equal(ServerStatus.Terminated, after.Single(s => s.Id == old.Id).Status));
        Assert.Equal(2, running.Count(s => s.Alias == "RailsAppServer"));
        Assert.Equal(7, scalr.Server.RequestLog.Count(r => r.Method == "POST" && r.Path.EndsWith("/servers/")));
        Assert.Equal(7, scalr.Server.RequestLog.Count(r => r.Method == "POST" && r.Path.EndsWith("/actions/terminate/")));
    }

    [Fact]
    public void A_batch_whose_second_launch_fails_uses_the_first_instead_of_leaving_it_as_surplus()
    {
        using var scalr = new LoopbackScalr();
        using var fleet = new Fleet(scalr.Connect());
        var service = new RecycleService(fleet, NullReporter.Instance);
        var plan = Assert.Single(service.Plan(new[] { "Production" }, new[] { "RailsAppServer" }, 2).Items);
        var olds = plan.Batches.SelectMany(b => b).ToList();
        // Scalr launches one server a call: the batch's first launch goes through, every later one fails.
        var launches = 0;
        scalr.Server.FailWhen((method, path) => method == "POST" && path.EndsWith("/servers/") && Interlocked.Increment(ref launches) > 1);

        var e = Assert.Throws<RecycleStoppedException>(() => service.Execute(plan, TimeSpan.FromMinutes(10), CancellationToken.None));
        scalr.Server.FailWhen(null);

        Assert.Contains("Launched 1 of 2 servers of farm role Production/RailsAppServer", e.Message);
        // The one launched replaced an old server; the other old one is kept; nothing is left over.
        var replaced = Assert.Single(e.Completed);
        scalr.Clock.Advance(TimeSpan.FromMinutes(1)); // let the termination finish
        var running = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, Aliases = new[] { "RailsAppServer" }, Statuses = new[] { ServerStatus.Running } });
        Assert.Equal(2, running.Count);
        Assert.Equal(new[] { replaced.NewId, olds.Single(o => o.Id != replaced.OldId).Id }.OrderBy(i => i), running.Select(s => s.Id).OrderBy(i => i));
    }

    [Fact]
    public void A_replacement_that_fails_to_boot_stops_the_recycle_and_keeps_the_old_server()
    {
        using var scalr = new LoopbackScalr();
        using var fleet = new Fleet(scalr.Connect());
        var service = new RecycleService(fleet, NullReporter.Instance);
        var plan = Assert.Single(service.Plan(new[] { "Dev" }, new[] { "Reports" }, 1).Items);
        var old = plan.Batches.Single().Single();
        lock (scalr.Server.World.Gate) scalr.Server.World.FailingLaunches = 1;

        var e = Assert.Throws<RecycleStoppedException>(() => service.Execute(plan, TimeSpan.FromMinutes(10), CancellationToken.None));
        Assert.Equal(TtmErrorCode.ReplacementFailed, e.Code);
        Assert.Empty(e.Completed);
        var reports = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Dev" }, Aliases = new[] { "Reports" } });
        Assert.Equal(ServerStatus.Running, reports.Single(s => s.Id == old.Id).Status);
    }

    [Fact]
    public void A_replacement_that_never_boots_times_out_on_the_clock()
    {
        using var scalr = new LoopbackScalr();
        using var fleet = new Fleet(scalr.Connect());
        var service = new RecycleService(fleet, NullReporter.Instance);
        var plan = Assert.Single(service.Plan(new[] { "Dev" }, new[] { "DevDebug" }, 1).Items);
        // Boot takes 60 s on the loopback clock; 30 s is not enough.
        var e = Assert.Throws<RecycleStoppedException>(() => service.Execute(plan, TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.Equal(TtmErrorCode.ReplacementTimeout, e.Code);
        Assert.Equal(1, scalr.Server.RequestLog.Count(r => r.Method == "POST" && r.Path.EndsWith("/actions/terminate/")));
    }
}

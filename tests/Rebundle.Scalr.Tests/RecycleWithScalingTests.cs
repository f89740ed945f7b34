using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;
using Rebundle.ScalrApi;

namespace Rebundle.Scalr.Tests;

/// <summary>
/// The recycle on Scalr with Scalr's scaling engine running: launch-first never fights it
/// (never above maxInstances, never below minInstances), never counts on it (the engine
/// launches nothing during or after a recycle, finished or stopped), and a farm role without
/// room above its count is refused before anything is launched.
/// </summary>
public class RecycleWithScalingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    [Fact]
    public void A_whole_recycle_leaves_every_farm_role_at_its_count_and_the_engine_never_acts()
    {
        using var scalr = new LoopbackScalr();
        using var fleet = new Fleet(scalr.Connect());
        var service = new RecycleService(fleet, NullReporter.Instance);
        var before = Ids(scalr);

        var done = service.Execute(Assert.Single(service.Plan(new[] { "Production" }, null, batchSize: 2).Items), Timeout, CancellationToken.None);

        Assert.Equal(7, done.Count);
        scalr.Clock.Advance(TimeSpan.FromMinutes(5)); // five scaling runs after the last termination
        AssertEveryFarmRoleAtItsCount(scalr);
        Assert.Empty(ScalingEngineTests.Events(scalr));
        Assert.Equal(7, scalr.Server.RequestLog.Count(r => r.Method == "POST" && r.Path.EndsWith("/servers/") && r.Status == 201));
        // Every Production server is new; no other farm was touched.
        var after = Ids(scalr);
        Assert.Empty(after["Production"].Intersect(before["Production"]));
        Assert.Equal(before["Dev"], after["Dev"]);
        Assert.Equal(before["Rebundle-Staging"], after["Rebundle-Staging"]);
    }

    [Fact]
    public void Max_equal_to_min_is_refused_before_any_launch_saying_what_to_change()
    {
        using var scalr = new LoopbackScalr();
        SetMax(scalr, "Dev", "Reports", 1); // min 1, max 1: no room for a replacement
        using var fleet = new Fleet(scalr.Connect());
        var service = new RecycleService(fleet, NullReporter.Instance);
        var old = ScalingEngineTests.Live((ScalrBackend)fleet.Backend, "Dev", "Reports").Single();

        var e = Assert.Throws<RecycleStoppedException>(() =>
            service.Execute(Assert.Single(service.Plan(new[] { "Dev" }, new[] { "Reports" }, 1).Items), Timeout, CancellationToken.None));

        Assert.Equal(TtmErrorCode.ConfigInvalid, e.Code);
        Assert.Equal("TtmConfigInvalid", e.ErrorId);
        Assert.Contains("Dev/Reports may have at most 1 server(s)", e.Message);
        Assert.Contains("Raise the farm role's maximum instances in Scalr to at least 1 plus -BatchSize", e.Message);
        Assert.Empty(e.Completed);
        Assert.DoesNotContain(scalr.Server.RequestLog, r => r.Method == "POST"); // not even a refused launch
        scalr.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(old.Id, ScalingEngineTests.Live((ScalrBackend)fleet.Backend, "Dev", "Reports").Single().Id);
        AssertEveryFarmRoleAtItsCount(scalr);
        Assert.Empty(ScalingEngineTests.Events(scalr));
    }

    [Fact]
    public void A_batch_wider_than_the_room_above_the_count_is_refused_before_any_launch()
    {
        using var scalr = new LoopbackScalr();
        SetMax(scalr, "Production", "RailsAppServer", 3); // count 2: room for one replacement at a time
        using var fleet = new Fleet(scalr.Connect());
        var service = new RecycleService(fleet, NullReporter.Instance);
        var olds = ScalingEngineTests.Live((ScalrBackend)fleet.Backend, "Production", "RailsAppServer").Select(s => s.Id).OrderBy(i => i).ToList();

        var e = Assert.Throws<RecycleStoppedException>(() =>
            service.Execute(Assert.Single(service.Plan(new[] { "Production" }, new[] { "RailsAppServer" }, 2).Items), Timeout, CancellationToken.None));

        Assert.Equal(TtmErrorCode.ConfigInvalid, e.Code);
        Assert.Contains("at most 3 server(s)", e.Message);
        // The window asks for both replacements in one batch; the batch is measured against the
        // maximum as a whole, so Scalr is not asked for one launch it would take and one it would refuse.
        Assert.Equal(0, scalr.Server.RequestLog.Count(r => r.Method == "POST" && r.Path.EndsWith("/servers/")));
        Assert.Equal(0, scalr.Server.RequestLog.Count(r => r.Method == "POST" && r.Path.EndsWith("/actions/terminate/")));
        scalr.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(olds, ScalingEngineTests.Live((ScalrBackend)fleet.Backend, "Production", "RailsAppServer").Select(s => s.Id).OrderBy(i => i).ToList());
        AssertEveryFarmRoleAtItsCount(scalr);
        Assert.Empty(ScalingEngineTests.Events(scalr));
    }

    [Fact]
    public void A_recycle_stopped_halfway_leaves_a_fleet_the_engine_does_not_add_to()
    {
        using var scalr = new LoopbackScalr();
        using var fleet = new Fleet(scalr.Connect());
        using var stop = new CancellationTokenSource();
        // Ctrl+C right after the first launch once batch 1 is done: its replacements serve, the next are in flight.
        var reporter = new StopAtLaunch(3, stop);
        var service = new RecycleService(fleet, reporter);
        var plan = Assert.Single(service.Plan(new[] { "Production" }, null, batchSize: 2).Items);

        Assert.Throws<OperationCanceledException>(() => service.Execute(plan, Timeout, stop.Token));

        // The window launches a farm role's replacements in one batch, so the stop comes after the
        // third launch or the fourth. Batch 1's two replacements serve; every later one is taken back,
        // so there is one termination per launch: two olds of batch 1 and the unused replacements.
        var launches = scalr.Server.RequestLog.Count(r => r.Method == "POST" && r.Path.EndsWith("/servers/"));
        Assert.InRange(launches, 3, 4);
        Assert.Equal(launches, scalr.Server.RequestLog.Count(r => r.Method == "POST" && r.Path.EndsWith("/actions/terminate/")));
        scalr.Clock.Advance(TimeSpan.FromMinutes(5));
        AssertEveryFarmRoleAtItsCount(scalr);
        Assert.Empty(ScalingEngineTests.Events(scalr));
        // Batch 1's olds are gone, the other five olds kept, beside batch 1's two replacements.
        var production = Ids(scalr)["Production"];
        Assert.Equal(7, production.Count);
        Assert.DoesNotContain(production, id => plan.Batches[0].Any(s => s.Id == id));
        Assert.All(plan.Batches.Skip(1).SelectMany(b => b), old => Assert.Contains(old.Id, production));
    }

    /// <summary>Every farm role of every farm has exactly minInstances servers, all running.</summary>
    private static void AssertEveryFarmRoleAtItsCount(LoopbackScalr scalr)
    {
        var world = scalr.Server.World;
        lock (world.Gate)
        {
            world.CatchUpScaling();
            var counts = world.FarmRoles.Select(r => (r.Alias, r.FarmId, r.MinInstances,
                Running: world.Servers.Count(s => s.FarmRoleId == r.Id && world.Status(s) == "running"),
                Live: world.Live(r))).ToList();
            Assert.All(counts, c => Assert.Equal((c.Alias, c.FarmId, c.MinInstances, c.MinInstances), (c.Alias, c.FarmId, c.Running, c.Live)));
            Assert.Equal(19, counts.Sum(c => c.Live)); // the runbook's fleet
        }
    }

    private static Dictionary<string, HashSet<string>> Ids(LoopbackScalr scalr)
    {
        var world = scalr.Server.World;
        lock (world.Gate)
            return world.Farms.ToDictionary(f => f.Name, f => world.Servers
                .Where(s => s.FarmId == f.Id && world.Status(s) is "pending" or "initializing" or "running").Select(s => s.Id).ToHashSet());
    }

    private static void SetMax(LoopbackScalr scalr, string farm, string alias, int max)
    {
        var world = scalr.Server.World;
        lock (world.Gate)
        {
            var farmId = world.Farms.Single(f => f.Name == farm).Id;
            world.FarmRoles.Single(r => r.FarmId == farmId && r.Alias == alias).MaxInstances = max;
        }
    }
}

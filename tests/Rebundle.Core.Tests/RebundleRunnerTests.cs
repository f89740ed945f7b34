using Rebundle.Audit;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Rebundling;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Tests;

public class RebundleRunnerTests : IDisposable
{
    private readonly TestFleet _t = new();
    private readonly MemoryJournal _journal = new();
    private static readonly RebundleOptions Options = new() { SkipOsUpdate = true, BatchSize = 2 };

    public void Dispose() => _t.Dispose();

    private RebundleResult Run(RebundleOptions options, IJournal? journal = null)
    {
        var runner = new RebundleRunner(_t.Fleet, journal ?? _journal, _t.Reporter);
        return runner.Run(runner.PlanOrResume(options), options, TimeSpan.FromMinutes(10), CancellationToken.None);
    }

    [Fact]
    public void The_plan_names_the_next_versions_of_every_staging_role()
    {
        var plan = RebundlePlan.Compute(_t.Fleet, Options with { Major = true });
        Assert.Equal("RailsAppServer-2-0", plan.Snapshots["RailsAppServer"]);
        Assert.DoesNotContain("TTM-Base", plan.Snapshots.Keys);
        Assert.Equal(new[] { "DevDebug", "NodeAppServer", "RailsAppServer", "Sidekiq", "SystemWatcher" }, plan.TestSwaps.OrderBy(a => a));
    }

    [Fact]
    public void The_plan_comes_back_from_the_journal_whole()
    {
        var plan = RebundlePlan.Compute(_t.Fleet, Options with { Major = true }) with { Packages = new[] { "nginx", "openssl" } };
        Assert.NotEmpty(plan.Promotions);

        var copy = RebundlePlan.FromData(plan.ToData());

        // A record compares its collections by reference, so each collection is compared by value on its
        // own, and the rest of the record with the plan's own collections put in.
        Assert.Equal(plan.Snapshots.OrderBy(s => s.Key), copy.Snapshots.OrderBy(s => s.Key));
        Assert.Equal(plan.TestSwaps, copy.TestSwaps);
        Assert.Equal(plan.Promotions, copy.Promotions);
        Assert.Equal(new[] { "nginx", "openssl" }, copy.Packages);
        Assert.Equal(plan, copy with { Snapshots = plan.Snapshots, TestSwaps = plan.TestSwaps, Promotions = plan.Promotions, Packages = plan.Packages });
    }

    [Fact]
    public void An_unknown_role_to_rebuild_is_refused_before_anything_changes()
    {
        var error = Assert.Throws<TtmException>(() => RebundlePlan.Compute(_t.Fleet, Options with { Roles = new[] { "Sidekik" } }));
        Assert.Equal(TtmErrorCode.FarmRoleNotFound, error.Code);
        Assert.Contains("Did you mean 'Sidekiq'?", error.Message);
    }

    [Fact]
    public void Without_approval_it_stops_at_the_gate_and_resumes_past_it()
    {
        var first = Run(Options);
        Assert.Equal(RebundleStatus.WaitingForApproval, first.Status);
        Assert.Equal("Sidekiq", _t.Fleet.RequireFarmRole("Production", "Sidekiq").Role);
        var productionImage = _t.Fleet.Roles().Require("Sidekiq").ImageId;
        Assert.Equal(productionImage, _t.Servers("Production", "Sidekiq").Single().ImageId);

        var second = Run(Options with { ApproveProduction = true });

        Assert.Equal(RebundleStatus.Completed, second.Status);
        var newImage = _t.Fleet.Roles().Require("Sidekiq-1-7").ImageId;
        Assert.Equal(newImage, _t.Fleet.Roles().Require("Sidekiq").ImageId);
        Assert.Equal(newImage, _t.Servers("Production", "Sidekiq").Single().ImageId);
        Assert.Single(_journal.Entries, e => e.Step == RebundleRunner.PlanStep);
    }

    [Fact]
    public void A_resumed_snapshot_reuses_the_image_the_journal_recorded()
    {
        // The first run gives up while the base image is still being made.
        _t.Backend.Simulate(o => o.ImageDelay = TimeSpan.FromHours(1));
        var timedOut = Assert.Throws<TtmException>(() => Run(Options));
        Assert.Equal(TtmErrorCode.ImageTimeout, timedOut.Code);
        var recorded = Assert.Single(_journal.Entries, e => e.Step == "base-image" && e.Event == "image")["imageId"];
        Assert.NotEqual(recorded, _t.Fleet.Roles().Require("TTM-Base").ImageId);

        _t.Clock.Advance(TimeSpan.FromHours(1));
        _t.Backend.Simulate(o => o.ImageDelay = TimeSpan.FromSeconds(5));
        Run(Options with { ApproveProduction = true });

        Assert.Equal(recorded, _t.Fleet.Roles().Require("TTM-Base").ImageId);
        var plan = RebundlePlan.FromData(_journal.Entries.First().Data);
        Assert.Single(_t.Backend.FindImagesByName(plan.BaseImageName));
        Assert.Null(_t.Fleet.Roles().Find("RailsAppServer-1-8"));
    }

    [Fact]
    public void Undo_puts_back_what_the_journal_changed()
    {
        var before = _t.Fleet.Roles().All.ToDictionary(r => r.Name, r => r.ImageId);
        Run(Options with { ApproveProduction = true });
        var undo = new RebundleUndo(_t.Fleet, _journal, _t.Reporter);
        var changes = undo.Plan();
        Assert.Contains(changes, c => c.Kind == UndoKind.RoleImage && c.Target == "RailsAppServer" && c.RestoreTo == before["RailsAppServer"]);
        Assert.Contains(changes, c => c.Kind == UndoKind.FarmRole && c.Farm == "Dev" && c.Target == "Sidekiq" && c.RestoreTo == "Sidekiq");
        foreach (var change in changes) undo.Apply(change);
        Assert.Equal(new[] { "Dev", "Production" }, undo.PendingRecycles().Select(r => r.Farm).Distinct().OrderBy(f => f));
        Assert.All(_t.Fleet.Roles().All.Where(r => before.ContainsKey(r.Name)), r => Assert.Equal(before[r.Name], r.ImageId));
        Assert.Equal("Sidekiq", _t.Fleet.RequireFarmRole("Dev", "Sidekiq").Role);
    }
}

public class RecycleAdoptionTests : IDisposable
{
    private readonly TestFleet _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public void A_resumed_recycle_adopts_a_replacement_launched_before_the_crash()
    {
        var old = _t.Server("Dev", "Sidekiq");
        var orphan = _t.Backend.LaunchServer(_t.Fleet.RequireFarmRole("Dev", "Sidekiq"));
        var service = new RecycleService(_t.Fleet, _t.Reporter);
        var plan = service.Plan(new[] { "Dev" }, new[] { "Sidekiq" }, 1, onlyServerIds: new[] { old.Id }).Items.Single();

        var recycled = Assert.Single(service.Execute(plan, TimeSpan.FromMinutes(1), CancellationToken.None));

        Assert.Equal(orphan.Id, recycled.NewId);
        Assert.Equal(orphan.Id, Assert.Single(_t.Servers("Dev", "Sidekiq")).Id);
    }
}

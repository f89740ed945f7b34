using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Rebundling;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Tests;

/// <summary>On resume, a planned role that exists is adopted only if this run made it.</summary>
public class RoleAdoptionTests : IDisposable
{
    private readonly TestFleet _t = new();
    private readonly MemoryJournal _journal = new();
    private static readonly RebundleOptions Options = new() { SkipOsUpdate = true, BatchSize = 2 };

    public void Dispose() => _t.Dispose();

    private RebundleResult Run(RebundleOptions options)
    {
        var runner = new RebundleRunner(_t.Fleet, _journal, _t.Reporter);
        return runner.Run(runner.PlanOrResume(options), options, TimeSpan.FromMinutes(10), CancellationToken.None);
    }

    /// <summary>The run stops in step 1 (its base image times out), before any role is snapshotted.</summary>
    private RebundlePlan InterruptBeforeSnapshots()
    {
        _t.Backend.Simulate(o => o.ImageDelay = TimeSpan.FromHours(1));
        Assert.Equal(TtmErrorCode.ImageTimeout, Assert.Throws<TtmException>(() => Run(Options)).Code);
        _t.Clock.Advance(TimeSpan.FromHours(1));
        _t.Backend.Simulate(o => o.ImageDelay = TimeSpan.FromSeconds(5));
        return RebundleRunner.RecordedPlan(_journal)!;
    }

    [Fact]
    public void Roles_a_run_creates_carry_its_run_id()
    {
        Run(Options);
        var plan = RebundleRunner.RecordedPlan(_journal)!;
        Assert.NotEqual("", plan.RunId);
        Assert.All(plan.Snapshots.Values, name => Assert.Equal(plan.RunId, _t.Fleet.Roles().Require(name).CreatedByRun));
        Assert.Null(_t.Fleet.Roles().Require("Sidekiq-1-6").CreatedByRun);
    }

    [Fact]
    public void A_role_someone_else_made_under_the_planned_name_is_a_RoleConflict_and_production_is_untouched()
    {
        var plan = InterruptBeforeSnapshots();
        Assert.Equal("RailsAppServer-1-7", plan.Snapshots["RailsAppServer"]);
        var productionImage = _t.Fleet.Roles().Require("RailsAppServer").ImageId;
        // Another session snapshots a Dev server into the name the run planned.
        var service = new SnapshotService(_t.Fleet, _t.Reporter);
        var other = service.Plan(new[] { new SnapshotRequest { Server = _t.Server("Dev", "RailsAppServer"), Version = RoleVersion.Parse("1-7") } }).Single().Plan!;
        Assert.Null(service.Execute(new[] { other }, wait: true, TimeSpan.FromMinutes(5), CancellationToken.None).Single().Error);

        var error = Assert.Throws<TtmException>(() => Run(Options with { ApproveProduction = true }));

        Assert.Equal(TtmErrorCode.RoleConflict, error.Code);
        Assert.Contains("Role RailsAppServer-1-7", error.Message);
        Assert.Contains("carries no run id", error.Message);
        Assert.Equal(productionImage, _t.Fleet.Roles().Require("RailsAppServer").ImageId);
        Assert.Equal(productionImage, _t.Servers("Production", "RailsAppServer").Select(s => s.ImageId).Distinct().Single());
        Assert.Equal("RailsAppServer", _t.Fleet.RequireFarmRole("Dev", "RailsAppServer").Role);
        Assert.DoesNotContain(_journal.Entries, e => e.Step == "swap-test" || e.Step == "promote");
    }

    [Fact]
    public void A_role_this_run_made_before_a_crash_is_adopted_without_a_second_snapshot()
    {
        var plan = InterruptBeforeSnapshots();
        // The crash came after CreateRole, before the journal could record it.
        var image = _t.Fleet.Roles().Require("Sidekiq-1-6").ImageId;
        _t.Backend.CreateRole("Sidekiq-1-7", _t.Fleet.Roles().Require("Sidekiq"), image, plan.RunId);

        var result = Run(Options with { ApproveProduction = true });

        Assert.Equal(RebundleStatus.Completed, result.Status);
        Assert.Contains("Sidekiq-1-7", result.NewRoles);
        Assert.Equal(image, _t.Fleet.Roles().Require("Sidekiq").ImageId);
        Assert.Empty(_t.Backend.FindImagesByName("Sidekiq-1-7"));
    }
}

using Rebundle.Domain;
using Rebundle.Rebundling;
using Rebundle.Reporting;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Tests;

/// <summary>The fleet report on the Sandbox: which version runs where, what drifted, what is safe to retire.</summary>
public class FleetReportTests : IDisposable
{
    private readonly TestFleet _t = new();

    public void Dispose() => _t.Dispose();

    private FleetReport Report(IReadOnlyList<UndoNeeds>? undo = null) => new FleetReportBuilder(_t.Fleet).Build(undo);

    private static FarmRoleReport Row(FleetReport report, string farm, string alias) => report.FarmRoles.Single(r => r.Farm == farm && r.Alias == alias);

    /// <summary>Runbook steps 5 and 6 for RailsAppServer, without the recycle: snapshot 1-7 on Staging, Dev's farm role runs it.</summary>
    private Role SnapshotAndSwapIntoDev()
    {
        var image = _t.Backend.CreateImage(_t.Server("Rebundle-Staging", "RailsAppServer"), "RailsAppServer-1-7");
        _t.Clock.Advance(TimeSpan.FromMinutes(1));
        var role = _t.Backend.CreateRole("RailsAppServer-1-7", _t.Fleet.Roles().Require("RailsAppServer"), image.Id);
        _t.Backend.SetFarmRoleRole(_t.Fleet.RequireFarmRole("Dev", "RailsAppServer"), role.Name);
        return role;
    }

    [Fact]
    public void A_load_balanced_farm_role_shows_how_many_of_its_servers_are_healthy_in_its_target_groups()
    {
        var web = _t.Fleet.RequireFarmRole("Production", "RailsAppServer");
        var balancing = _t.Backend.Capability<Rebundle.Backends.ILoadBalancing>()!;
        Assert.Equal((2, (int?)2), (Row(Report(), "Production", "RailsAppServer").Wanted, Row(Report(), "Production", "RailsAppServer").Healthy));

        balancing.DeregisterTargets(web, "production-railsappserver", new[] { _t.Server("Production", "RailsAppServer", 1) });

        var row = Row(Report(), "Production", "RailsAppServer");
        Assert.Equal(new[] { "production-railsappserver" }, row.TargetGroups);
        Assert.Equal((int?)1, row.Healthy);
        Assert.Equal(2, row.Running);
        Assert.Null(Row(Report(), "Production", "Sidekiq").Healthy); // no load balancer: nothing to count
        Assert.Contains("1/2 healthy", FleetReportPage.Render(Report(), Array.Empty<Rebundle.Audit.AuditEntry>()));
    }

    [Fact]
    public void The_seeded_fleet_runs_every_latest_version_with_no_drift_and_nothing_to_promote()
    {
        var report = Report();

        Assert.Equal(_t.Clock.UtcNow, report.TakenAt);
        Assert.Equal("Sandbox", report.Backend);
        Assert.Equal(18, report.FarmRoles.Count);
        var production = Row(report, "Production", "RailsAppServer");
        Assert.Equal(("RailsAppServer", "1-6", 30, 2, 2, 0, true, "1-6", (string?)null),
            (production.Role, production.Version, production.ImageAgeDays, production.Wanted, production.Running, production.Drift, production.IsLatest, production.LatestVersion, production.PendingPromotion));
        var staging = Row(report, "Rebundle-Staging", "Sidekiq");
        Assert.Equal(("TTM-Base", (string?)null, true, (string?)null), (staging.Role, staging.Version, staging.IsLatest, staging.LatestVersion));
        Assert.All(report.FarmRoles, r => Assert.Equal(0, r.Drift));
    }

    [Fact]
    public void After_step_6_dev_runs_the_new_version_its_old_server_drifts_and_the_promotion_is_pending()
    {
        var oldImage = _t.Fleet.Roles().Require("RailsAppServer").ImageId;
        var role = SnapshotAndSwapIntoDev();
        _t.Clock.Advance(TimeSpan.FromDays(2) + TimeSpan.FromHours(23));

        var report = Report();

        var dev = Row(report, "Dev", "RailsAppServer");
        Assert.Equal(("RailsAppServer-1-7", "1-7", role.ImageId, 2, true), (dev.Role, dev.Version, dev.ImageId, dev.ImageAgeDays, dev.IsLatest));
        Assert.Equal(new[] { "RailsAppServer.1" }, dev.DriftedServers);
        Assert.Equal("1-7", dev.PendingPromotion);
        var production = Row(report, "Production", "RailsAppServer");
        Assert.Equal((oldImage, "1-6", false, "1-7", "1-7", 0), (production.ImageId, production.Version, production.IsLatest, production.LatestVersion, production.PendingPromotion, production.Drift));
        Assert.Null(Row(report, "Dev", "Sidekiq").PendingPromotion);
    }

    [Fact]
    public void Promoting_the_image_clears_the_pending_promotion_and_every_production_server_drifts_until_recycled()
    {
        var role = SnapshotAndSwapIntoDev();
        _t.Backend.SetRoleImage(_t.Fleet.Roles().Require("RailsAppServer"), role.ImageId);

        var production = Row(Report(), "Production", "RailsAppServer");

        Assert.Equal(("1-7", true, (string?)null), (production.Version, production.IsLatest, production.PendingPromotion));
        Assert.Equal(new[] { "RailsAppServer.1", "RailsAppServer.2" }, production.DriftedServers);
    }

    [Fact]
    public void Role_versions_say_where_they_run_what_carries_their_image_and_whether_retiring_is_safe()
    {
        var role = SnapshotAndSwapIntoDev();
        _t.Clock.Advance(TimeSpan.FromDays(1));

        var versions = Report().RoleVersions;

        Assert.Equal(8, versions.Count);
        var old = versions.Single(v => v.Role == "RailsAppServer-1-6");
        Assert.Equal(("1-6", 31, "", "RailsAppServer", false, true, (string?)null),
            (old.Version, old.ImageAgeDays, string.Join(",", old.Farms), string.Join(",", old.CarriedBy), old.IsLatest, old.SafeToRetire, old.KeptBecause));
        var tried = versions.Single(v => v.Role == "RailsAppServer-1-7");
        Assert.Equal((role.ImageId, 1, "Dev", true, false, "the newest version of RailsAppServer"),
            (tried.ImageId, tried.ImageAgeDays, string.Join(",", tried.Farms), tried.IsLatest, tried.SafeToRetire, tried.KeptBecause));
        _t.Backend.SetFarmRoleRole(_t.Fleet.RequireFarmRole("Production", "RailsAppServer"), "RailsAppServer-1-6");
        var running = Report().RoleVersions.Single(v => v.Role == "RailsAppServer-1-6");
        Assert.Equal(("Production", false, "a farm role runs it"), (string.Join(",", running.Farms), running.SafeToRetire, running.KeptBecause));
        var sidekiq = versions.Single(v => v.Role == "Sidekiq-1-6");
        Assert.Equal((false, "the newest version of Sidekiq"), (sidekiq.SafeToRetire, sidekiq.KeptBecause));
    }

    [Fact]
    public void A_version_a_recent_rebundles_undo_needs_is_not_safe_to_retire_by_the_same_rule_as_Remove_TtmRoleVersion()
    {
        var image = _t.Fleet.Roles().Require("RailsAppServer-1-6").ImageId;
        SnapshotAndSwapIntoDev();
        var undo = new[] { new UndoNeeds("j.jsonl", _t.Clock.UtcNow, new[] { image }, Array.Empty<string>()) };

        var old = Report(undo).RoleVersions.Single(v => v.Role == "RailsAppServer-1-6");

        Assert.False(old.SafeToRetire);
        Assert.Contains("j.jsonl", old.KeptBecause);
        var (retire, _) = new RoleRetirementService(_t.Fleet).Plan(1, null, undo);
        Assert.Equal(Report(undo).RoleVersions.Where(v => v.SafeToRetire).Select(v => v.Role), retire.Select(r => r.Role.Name).OrderBy(n => n));
    }

    [Fact]
    public void The_report_reads_farm_roles_and_roles_once_each_and_never_the_farm_list()
    {
        var counting = new CountingBackend(_t.Backend);

        new FleetReportBuilder(new Fleet(counting)).Build();

        Assert.Equal(2, counting.ListReads);
    }
}

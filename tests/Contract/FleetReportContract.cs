using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Reporting;
using Rebundle.Runbook;
using Rebundle.TestKit;
using Xunit;

namespace Rebundle.Contract;

/// <summary>
/// The fleet report (Get-TtmFleetReport's <see cref="FleetReportBuilder"/>) written once and run
/// against each backend by a subclass in that backend's test project (SandboxFleetReportTests,
/// AwsFleetReportTests, ScalrFleetReportTests): the same test names, the same assertions, from
/// the runbook's seeded fleet on a manual clock. The runbook's steps are taken with Core's own
/// services, as the cmdlets take them.
/// </summary>
public abstract class FleetReportContract : IDisposable
{
    /// <summary>The backend under test, connected to a freshly seeded fleet.</summary>
    protected abstract IFleetBackend Backend { get; }

    /// <summary>The clock the backend and its fleet share.</summary>
    protected abstract ManualClock Clock { get; }

    /// <summary>
    /// The backend's own fault for a launch that never comes up: every later replacement in
    /// <paramref name="farm"/>/<paramref name="alias"/> stays pending (or the next one, where the fault counts launches).
    /// </summary>
    protected abstract void NextLaunchNeverBoots(string farm, string alias);

    /// <summary>
    /// Every request since the last <see cref="ClearRequests"/>, one line each: what was asked and
    /// of what (the wire requests of EC2 and Scalr, the Sandbox's calls through the backend seam).
    /// </summary>
    protected abstract IReadOnlyList<string> Requests { get; }

    protected abstract void ClearRequests();

    public abstract void Dispose();

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(30);

    private FleetReport Report() => new FleetReportBuilder(new Fleet(Backend)).Build();

    private static FarmRoleReport Row(FleetReport report, string farm, string alias) => report.FarmRoles.Single(r => r.Farm == farm && r.Alias == alias);

    /// <summary>A farm-role row on one line, so a whole report compares as a list of lines.</summary>
    private static string Line(FarmRoleReport r) =>
        $"{r.Farm}/{r.Alias} role={r.Role} v={r.Version ?? "-"} age={r.ImageAgeDays?.ToString() ?? "?"} {r.Running}/{r.Wanted} " +
        $"drift=[{string.Join(",", r.DriftedServers)}] latest={r.LatestVersion ?? "-"}{(r.IsLatest ? "" : " (behind)")} pending={r.PendingPromotion ?? "-"}";

    private static string Line(RoleVersionReport v) =>
        $"{v.Role} age={v.ImageAgeDays?.ToString() ?? "?"} farms=[{string.Join(",", v.Farms)}] carriedBy=[{string.Join(",", v.CarriedBy)}] " +
        $"{(v.IsLatest ? "latest " : "")}{(v.SafeToRetire ? "safe to retire" : "kept: " + v.KeptBecause)}";

    // ---- The runbook's steps, with Core's services -----------------------------------------

    /// <summary>Runbook step 5: snapshot Staging's server of that alias into the next version (1-7), waiting for the image.</summary>
    private Role Step5Snapshot(string alias)
    {
        var fleet = new Fleet(Backend);
        var server = fleet.GetServers(new[] { "Rebundle-Staging" }, new[] { alias }, null).Items.Single();
        var snapshots = new SnapshotService(fleet, new SilentReporter());
        var (plan, error) = snapshots.Plan(new[] { new SnapshotRequest { Server = server } }).Single();
        Assert.Null(error);
        var outcome = snapshots.Execute(new[] { plan! }, wait: true, Timeout, CancellationToken.None).Single();
        Assert.Null(outcome.Error);
        return outcome.Role!;
    }

    /// <summary>Runbook step 6: the Dev farm's farm role runs the new version (its server is not recycled yet).</summary>
    private void Step6SwapIntoDev(Role version)
    {
        var service = new RoleAssignmentService(new Fleet(Backend));
        service.Apply(service.PlanFarmRole("Dev", version.Name, alias: null));
    }

    /// <summary>Runbook step 7: the production role launches from the new version's image.</summary>
    private void Step7Promote(Role version)
    {
        var service = new RoleAssignmentService(new Fleet(Backend));
        service.Apply(service.PlanRoleImage(version.BaseName, version.ImageId));
    }

    // ---- The tests ---------------------------------------------------------------------------

    [Fact]
    public void The_seeded_fleet_runs_every_latest_version_30_days_old_with_no_drift_and_nothing_to_promote()
    {
        var report = Report();

        Assert.Equal((Clock.UtcNow, Backend.Kind.ToString(), Backend.Location), (report.TakenAt, report.Backend, report.Location));
        var production = new[] { "DevDebug", "NodeAppServer", "RailsAppServer", "Reports", "Sidekiq", "SystemWatcher" };
        var expected =
            production.Select(a => $"Dev/{a} role={a} v=1-6 age=30 1/1 drift=[] latest=1-6 pending=-")
            .Concat(production.Select(a => $"Production/{a} role={a} v=1-6 age=30 {(a == "RailsAppServer" ? "2/2" : "1/1")} drift=[] latest=1-6 pending=-"))
            .Concat(new[] { "DevDebug", "NodeAppServer", "RailsAppServer", "Sidekiq", "SystemWatcher", "TTM-Base" }
                .Select(a => $"Rebundle-Staging/{a} role=TTM-Base v=- age=30 1/1 drift=[] latest=- pending=-"));
        Assert.Equal(expected, report.FarmRoles.Select(Line));

        var versions = new[] { "DataLoad", "DevDebug", "NodeAppServer", "RailsAppServer", "Reports", "Sidekiq", "SystemWatcher" }
            .Select(b => $"{b}-1-6 age=30 farms=[] carriedBy=[{b}] latest kept: the newest version of {b}");
        Assert.Equal(versions, report.RoleVersions.Select(Line));
    }

    [Fact]
    public void After_step_6_dev_runs_the_new_version_its_old_server_drifts_and_the_promotion_is_pending()
    {
        var version = Step5Snapshot("RailsAppServer");
        Step6SwapIntoDev(version);
        Clock.Advance(TimeSpan.FromDays(2));

        var report = Report();

        Assert.Equal("Dev/RailsAppServer role=RailsAppServer-1-7 v=1-7 age=2 1/1 drift=[RailsAppServer.1] latest=1-7 pending=1-7", Line(Row(report, "Dev", "RailsAppServer")));
        Assert.Equal(version.ImageId, Row(report, "Dev", "RailsAppServer").ImageId);
        Assert.Equal("Production/RailsAppServer role=RailsAppServer v=1-6 age=32 2/2 drift=[] latest=1-7 (behind) pending=1-7", Line(Row(report, "Production", "RailsAppServer")));
        // Only RailsAppServer moved: every other row is as seeded, 32 days on.
        Assert.All(report.FarmRoles.Where(r => r.Alias != "RailsAppServer" && r.Farm != "Rebundle-Staging"),
            r => Assert.EndsWith("v=1-6 age=32 1/1 drift=[] latest=1-6 pending=-", Line(r)));
    }

    [Fact]
    public void After_an_interrupted_recycle_of_production_the_old_servers_drift_and_the_stalled_replacement_is_not_counted()
    {
        var version = Step5Snapshot("RailsAppServer");
        Step6SwapIntoDev(version);
        Step7Promote(version);
        NextLaunchNeverBoots("Production", "RailsAppServer");
        var recycle = new RecycleService(new Fleet(Backend), new SilentReporter());
        var plan = Assert.Single(recycle.Plan(new[] { "Production" }, new[] { "RailsAppServer" }, batchSize: 1).Items);

        var stopped = Assert.Throws<RecycleStoppedException>(() => recycle.Execute(plan, TimeSpan.FromMinutes(10), CancellationToken.None));
        Assert.Equal(TtmErrorCode.ReplacementTimeout, stopped.Code);

        var report = Report();
        Assert.Equal("Production/RailsAppServer role=RailsAppServer v=1-7 age=0 2/2 drift=[RailsAppServer.1,RailsAppServer.2] latest=1-7 pending=-",
            Line(Row(report, "Production", "RailsAppServer")));
        Assert.Equal("Dev/RailsAppServer role=RailsAppServer-1-7 v=1-7 age=0 1/1 drift=[RailsAppServer.1] latest=1-7 pending=-", Line(Row(report, "Dev", "RailsAppServer")));
        Assert.Equal(3, report.FarmRoles.Sum(r => r.Drift));
    }

    [Fact]
    public void Role_versions_say_where_they_run_what_carries_their_image_and_whether_retiring_is_safe()
    {
        var version = Step5Snapshot("RailsAppServer");
        Step6SwapIntoDev(version);
        Clock.Advance(TimeSpan.FromDays(1));

        var versions = Report().RoleVersions;

        Assert.Equal(8, versions.Count);
        Assert.Equal("RailsAppServer-1-6 age=31 farms=[] carriedBy=[RailsAppServer] safe to retire", Line(versions.Single(v => v.Role == "RailsAppServer-1-6")));
        Assert.Equal("RailsAppServer-1-7 age=1 farms=[Dev] carriedBy=[] latest kept: the newest version of RailsAppServer", Line(versions.Single(v => v.Role == "RailsAppServer-1-7")));
        Assert.Equal("Sidekiq-1-6 age=31 farms=[] carriedBy=[Sidekiq] latest kept: the newest version of Sidekiq", Line(versions.Single(v => v.Role == "Sidekiq-1-6")));

        // Production rolled back onto 1-6 (Set-TtmFarmRole): now a farm runs it and it must stay.
        var assign = new RoleAssignmentService(new Fleet(Backend));
        assign.Apply(assign.PlanFarmRole("Production", "RailsAppServer-1-6", alias: "RailsAppServer"));
        Assert.Equal("RailsAppServer-1-6 age=31 farms=[Production] carriedBy=[RailsAppServer] kept: a farm role runs it",
            Line(Report().RoleVersions.Single(v => v.Role == "RailsAppServer-1-6")));
    }

    [Fact]
    public void A_report_reads_each_list_once_and_more_servers_cost_no_request_each()
    {
        ClearRequests();
        Report();
        var seeded = Requests;
        Assert.NotEmpty(seeded);
        Assert.Empty(seeded.GroupBy(r => r).Where(g => g.Count() > 1).Select(g => $"{g.Count()}x {g.Key}"));

        // Six more servers (Dev's Sidekiq at 7): the report reads more pages, never a request per server.
        var sidekiq = Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Sidekiq");
        var launched = Enumerable.Range(0, 6).Select(_ => Backend.LaunchServer(sidekiq)).Select(s => s.Id).ToList();
        var query = new ServerQuery { Ids = launched };
        WaitFor(() => Backend.GetServers(query).All(s => s.Status == ServerStatus.Running));
        ClearRequests();
        var report = Report();
        var grown = Requests;

        Assert.Equal(7, Row(report, "Dev", "Sidekiq").Running);
        Assert.Empty(grown.GroupBy(r => r).Where(g => g.Count() > 1).Select(g => $"{g.Count()}x {g.Key}"));
        Assert.True(grown.Count - seeded.Count < launched.Count,
            $"{grown.Count} requests for 25 servers, {seeded.Count} for 19:\n{string.Join("\n", grown)}");
    }

    private void WaitFor(Func<bool> done)
    {
        var deadline = Clock.UtcNow + Timeout;
        while (!done())
        {
            Assert.True(Clock.UtcNow < deadline, $"Waited 30 simulated minutes on {Backend.Kind}.");
            Clock.Advance(Backend.PollInterval);
        }
    }
}

using System.IO;
using Rebundle.Audit;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;
using Rebundle.Sandbox;
using Xunit;

namespace Rebundle.Tests;

/// <summary>
/// Recycles of the Sandbox's web roles, which serve through simulated target groups. At every
/// poll (the clock's every sleep) a watcher checks what an operator's users would notice: each
/// load-balanced farm role has at least its count of healthy targets, and no terminated server
/// is still in a target group (terminated while registered or draining).
/// </summary>
public class LoadBalancedRecycleTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rebundle-lb-" + Guid.NewGuid().ToString("n"));
    private readonly WatchingClock _clock = new(new DateTimeOffset(2026, 4, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly SandboxBackend _sandbox;
    private readonly ListSink _log = new();
    private readonly RecordingReporter _reporter = new();
    private readonly List<string> _violations = new();
    private int _polls;

    public LoadBalancedRecycleTests()
    {
        _sandbox = SandboxBackend.Open(_directory, clock: _clock);
        _sandbox.Simulate(o =>
        {
            o.BootDelay = TimeSpan.FromSeconds(20);
            o.HealthDelay = TimeSpan.FromSeconds(30);
            o.DrainDelay = TimeSpan.FromSeconds(60);
        });
        _clock.Slept = () =>
        {
            _polls++;
            CheckServing("Production");
            CheckServing("Dev");
        };
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private ILoadBalancing Balancing => _sandbox.Capability<ILoadBalancing>()!;

    private RecycleService Service(IFleetBackend? backend = null) => new(new Fleet(backend ?? new AuditingBackend(_sandbox, _log, "ops@host")), _reporter);

    private IReadOnlyList<RecycledServer> Recycle(string farm, int batchSize = 1, TimeSpan? grace = null, CancellationToken cancellation = default)
    {
        var service = Service();
        var plan = service.Plan(new[] { farm }, null, batchSize).Items.Single();
        return service.Execute(new[] { plan }, new RecycleOptions { Timeout = TimeSpan.FromMinutes(10), HealthGrace = grace ?? TimeSpan.FromMinutes(1) }, cancellation);
    }

    private void NewImageFor(string farm, string alias) =>
        _sandbox.SetFarmRoleRole(_sandbox.GetFarmRoles(new[] { farm }).Single(r => r.Alias == alias), alias + "-1-6");

    /// <summary>The invariant, checked at every poll: counted from a separate read of the Sandbox.</summary>
    private void CheckServing(string farm)
    {
        var servers = _sandbox.GetServers(new ServerQuery { Farms = new[] { farm }, IncludeTerminated = true });
        foreach (var farmRole in _sandbox.GetFarmRoles(new[] { farm }).Where(r => r.IsLoadBalanced))
        {
            var groups = Balancing.ReadTargetGroups(farmRole.TargetGroups);
            var mine = servers.Where(s => s.FarmRoleId == farmRole.Id).ToList();
            var healthy = mine.Count(s => s.Status != ServerStatus.Terminated && groups.All(g => g.HealthOf(s.Id) == TargetHealth.Healthy));
            if (healthy < farmRole.DesiredCount) _violations.Add($"poll {_polls}: {farmRole} had {healthy} healthy of {farmRole.DesiredCount}");
            foreach (var gone in mine.Where(s => s.Status == ServerStatus.Terminated && groups.Any(g => g.HealthOf(s.Id) != TargetHealth.Unused)))
                _violations.Add($"poll {_polls}: {gone.Name} was terminated while still in a target group of {farmRole}");
        }
    }

    /// <summary>What a finished recycle must leave: every target group holds exactly the farm role's live servers, all healthy.</summary>
    private void AssertTargetGroupsHoldLiveServers(string farm)
    {
        CheckServing(farm); // the last look, right as the recycle returns: after its last poll it may still have terminated
        Assert.Empty(_violations);
        _clock.Advance(TimeSpan.FromMinutes(5)); // let every replacement pass its checks and every drain end
        var servers = _sandbox.GetServers(new ServerQuery { Farms = new[] { farm } });
        foreach (var farmRole in _sandbox.GetFarmRoles(new[] { farm }).Where(r => r.IsLoadBalanced))
        {
            var live = servers.Where(s => s.FarmRoleId == farmRole.Id && s.Status == ServerStatus.Running).Select(s => s.Id).OrderBy(i => i).ToList();
            Assert.Equal(farmRole.DesiredCount, live.Count);
            foreach (var group in Balancing.ReadTargetGroups(farmRole.TargetGroups))
            {
                Assert.Equal(live, group.Targets.Keys.OrderBy(i => i).ToList());
                Assert.All(group.Targets.Values, h => Assert.Equal(TargetHealth.Healthy, h));
            }
        }
    }

    [Fact]
    public void The_web_roles_of_Dev_and_Production_serve_from_their_own_target_groups()
    {
        var roles = _sandbox.GetFarmRoles(new[] { "Dev", "Production" }).Where(r => r.IsLoadBalanced).Select(r => $"{r}={string.Join(",", r.TargetGroups)}").OrderBy(x => x);
        Assert.Equal(new[]
        {
            "Dev/NodeAppServer=dev-nodeappserver", "Dev/RailsAppServer=dev-railsappserver",
            "Production/NodeAppServer=production-nodeappserver", "Production/RailsAppServer=production-railsappserver",
        }, roles);
        Assert.All(Balancing.ReadTargetGroups(new[] { "production-railsappserver" }).Single().Targets.Values, h => Assert.Equal(TargetHealth.Healthy, h));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_recycle_never_drops_below_the_healthy_count_and_terminates_only_drained_servers(int batchSize)
    {
        NewImageFor("Production", "RailsAppServer");
        var before = _sandbox.GetServers(new ServerQuery { Farms = new[] { "Production" } }).Where(s => s.Alias == "RailsAppServer").ToList();

        var recycled = Recycle("Production", batchSize);

        Assert.Empty(_violations);
        Assert.Equal(7, recycled.Count);
        Assert.True(_polls > 5, "the watcher saw the recycle poll");
        AssertTargetGroupsHoldLiveServers("Production");
        Assert.DoesNotContain(_sandbox.GetServers(new ServerQuery { Farms = new[] { "Production" } }), s => before.Any(b => b.Id == s.Id));
        // An old web server went only after it had drained for the deregistration delay (60 s).
        foreach (var old in before)
        {
            var deregistered = _log.Entries.Single(e => !e.IsIntent && e.Action == "DeregisterTargets" && e.Before!.Contains(old.Id)).Time;
            var terminated = _log.Entries.Single(e => !e.IsIntent && e.Action == "TerminateServer" && e.Before!.Contains(old.Id)).Time;
            Assert.True(terminated - deregistered >= TimeSpan.FromSeconds(60), $"{old.Name} terminated {terminated - deregistered} after its deregistration");
        }
    }

    [Fact]
    public void Every_register_and_deregister_is_audited_before_it_happens_naming_its_servers()
    {
        Recycle("Dev", batchSize: 1);

        var registers = _log.Entries.Where(e => e.Action == "RegisterTargets").ToList();
        Assert.Equal(2, registers.Count(e => e.IsIntent)); // Dev's Rails and Node replacements
        Assert.All(registers, e => Assert.Contains("registered in target group dev-", e.After));
        var intent = registers.First(e => e.IsIntent);
        Assert.Single(intent.Servers);
        Assert.Equal(new[] { "Dev" }, intent.Farms);
        Assert.Equal(2, _log.Entries.Count(e => e.IsIntent && e.Action == "DeregisterTargets"));
    }

    [Fact]
    public void An_unhealthy_replacement_stops_the_recycle_and_the_old_server_keeps_serving()
    {
        _sandbox.Simulate(o => o.FailHealth.Add("Dev/RailsAppServer"));
        var old = _sandbox.GetServers(new ServerQuery { Farms = new[] { "Dev" } }).Single(s => s.Alias == "RailsAppServer");

        var stopped = Assert.Throws<RecycleStoppedException>(() => Recycle("Dev", grace: TimeSpan.FromSeconds(20)));

        Assert.Equal(TtmErrorCode.ReplacementUnhealthy, stopped.Code);
        Assert.Contains(old.Name, stopped.Message);
        Assert.Empty(_violations);
        AssertTargetGroupsHoldLiveServers("Dev");
        Assert.Equal(old.Id, _sandbox.GetServers(new ServerQuery { Farms = new[] { "Dev" } }).Single(s => s.Alias == "RailsAppServer").Id);
    }

    [Fact]
    public void Unhealthy_within_its_grace_is_waited_for()
    {
        _sandbox.Simulate(o => o.FailHealth.Add("Dev/RailsAppServer"));
        // Heal the role's servers a little after they first report unhealthy: the grace covers it.
        var healed = false;
        _clock.Slept += () =>
        {
            if (healed || !_log.Entries.Any(e => e.Action == "RegisterTargets" && !e.IsIntent)) return;
            if (_clock.UtcNow < _log.Entries.First(e => e.Action == "RegisterTargets").Time + TimeSpan.FromSeconds(70)) return;
            _sandbox.Simulate(o => o.FailHealth.Clear());
            HealServers();
            healed = true;
        };

        var recycled = Recycle("Dev", grace: TimeSpan.FromMinutes(3));

        Assert.True(healed);
        Assert.Equal(6, recycled.Count);
        Assert.Empty(_violations);
    }

    private void HealServers()
    {
        var path = Path.Combine(_directory, SandboxBackend.FileName);
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"healthFails\": true", "\"healthFails\": false"));
    }

    [Fact]
    public void Ctrl_C_while_a_replacement_is_registered_then_a_rerun_ends_with_each_target_group_holding_the_live_servers()
    {
        NewImageFor("Production", "RailsAppServer");
        using var ctrlC = new CancellationTokenSource();
        _clock.Slept += () =>
        {
            if (_log.Entries.Any(e => e.Action == "RegisterTargets" && !e.IsIntent)) ctrlC.Cancel();
        };

        Assert.ThrowsAny<OperationCanceledException>(() => Recycle("Production", batchSize: 2, cancellation: ctrlC.Token));
        Assert.Empty(_violations);

        _clock.Slept = () => CheckServing("Production");
        Recycle("Production", batchSize: 2);

        Assert.Empty(_violations);
        AssertTargetGroupsHoldLiveServers("Production");
        Assert.All(_sandbox.GetServers(new ServerQuery { Farms = new[] { "Production" } }).Where(s => s.Alias == "RailsAppServer"),
            s => Assert.Equal("RailsAppServer-1-6", s.Role));
    }

    [Theory]
    [InlineData("RegisterTargets")]
    [InlineData("DeregisterTargets")]
    public void Killed_mid_recycle_then_a_rerun_ends_with_each_target_group_holding_the_live_servers(string killedAfter)
    {
        NewImageFor("Production", "RailsAppServer");
        NewImageFor("Production", "NodeAppServer");
        var path = Path.Combine(_directory, SandboxBackend.FileName);
        string? onDisk = null;
        using var stop = new CancellationTokenSource();
        _clock.Slept += () =>
        {
            // kill -9: the fleet stays exactly as it is at this moment; no cleanup runs.
            if (onDisk != null || !_log.Entries.Any(e => e.Action == killedAfter && !e.IsIntent)) return;
            onDisk = File.ReadAllText(path);
            stop.Cancel();
        };
        Assert.ThrowsAny<OperationCanceledException>(() => Recycle("Production", batchSize: 2, cancellation: stop.Token));
        File.WriteAllText(path, onDisk!);

        _clock.Slept = () => CheckServing("Production");
        Recycle("Production", batchSize: 2);

        Assert.Empty(_violations);
        AssertTargetGroupsHoldLiveServers("Production");
        var web = _sandbox.GetServers(new ServerQuery { Farms = new[] { "Production" } }).Where(s => s.Alias is "RailsAppServer" or "NodeAppServer").ToList();
        Assert.All(web, s => Assert.EndsWith("-1-6", s.Role));
        Assert.Equal(3, web.Count);
    }

    [Fact]
    public void Each_poll_round_reads_each_target_group_once_however_many_servers_are_in_flight()
    {
        NewImageFor("Production", "RailsAppServer");
        var counting = new CountingBackend(new AuditingBackend(_sandbox, _log, "ops@host"));
        var rounds = 0;
        _clock.Slept = () => rounds++;
        var service = Service(counting);
        var plan = service.Plan(new[] { "Production" }, new[] { "RailsAppServer" }, 2).Items.Single();

        service.Execute(new[] { plan }, new RecycleOptions { Timeout = TimeSpan.FromMinutes(10) }, CancellationToken.None);

        Assert.True(counting.TargetGroupReads.Count > 3);
        // One read per round (plus the closing check); each asks for the one target group once.
        Assert.True(counting.TargetGroupReads.Count <= rounds + 2, $"{counting.TargetGroupReads.Count} reads in {rounds} rounds");
        Assert.All(counting.TargetGroupReads.Take(counting.TargetGroupReads.Count - 1), names => Assert.Equal(new[] { "production-railsappserver" }, names));
        Assert.All(counting.TargetGroupReads, names => Assert.Equal(names.Distinct().Count(), names.Count));
    }

    [Fact]
    public void Surplus_left_registered_by_an_interrupted_run_drains_before_it_is_terminated()
    {
        var web = _sandbox.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "RailsAppServer");
        var extras = _sandbox.LaunchServers(web, 2);
        _clock.Advance(TimeSpan.FromMinutes(1));
        Balancing.RegisterTargets(web, "dev-railsappserver", extras);
        _clock.Advance(TimeSpan.FromMinutes(1));

        Recycle("Dev");

        Assert.Empty(_violations); // checked at every poll of the drain wait, and once more below
        AssertTargetGroupsHoldLiveServers("Dev");
        // Two of the three (the planner picks which: one stands in for the old one, one is plain surplus) went, each drained first.
        var gone = _sandbox.GetServers(new ServerQuery { Farms = new[] { "Dev" }, Aliases = new[] { "RailsAppServer" }, IncludeTerminated = true })
            .Where(s => s.Status == ServerStatus.Terminated).ToList();
        Assert.Equal(2, gone.Count);
        foreach (var server in gone)
        {
            var deregistered = _log.Entries.Single(e => !e.IsIntent && e.Action == "DeregisterTargets" && e.Before!.Contains(server.Id)).Time;
            var terminated = _log.Entries.Single(e => !e.IsIntent && e.Action == "TerminateServer" && e.Before!.Contains(server.Id)).Time;
            Assert.True(terminated - deregistered >= TimeSpan.FromSeconds(60), $"{server.Name} terminated {terminated - deregistered} after its deregistration");
        }
    }

    [Fact]
    public void A_target_group_that_does_not_exist_fails_the_recycle_before_anything_is_launched()
    {
        var path = Path.Combine(_directory, SandboxBackend.FileName);
        // The farm role's list comes before the target group itself in the file: only it is renamed.
        File.WriteAllText(path, new System.Text.RegularExpressions.Regex("\"dev-railsappserver\"").Replace(File.ReadAllText(path), "\"dev-rails-typo\"", 1));
        var before = _sandbox.GetServers(new ServerQuery { Farms = new[] { "Dev" } }).Select(s => s.Id).OrderBy(i => i).ToList();

        var error = Assert.ThrowsAny<TtmException>(() => Recycle("Dev"));

        Assert.Equal(TtmErrorCode.TargetGroupNotFound, error.Code);
        Assert.Contains("dev-rails-typo", error.Message);
        Assert.Equal(before, _sandbox.GetServers(new ServerQuery { Farms = new[] { "Dev" } }).Select(s => s.Id).OrderBy(i => i).ToList());
        Assert.DoesNotContain(_log.Entries, e => e.Action == "LaunchServer");
    }
}

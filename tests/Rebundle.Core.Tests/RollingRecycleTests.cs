using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Tests;

/// <summary>The rolling window, farms in order or side by side, and the first failure, on a manual clock.</summary>
public class RollingRecycleTests : IDisposable
{
    private readonly TestFleet _t = new();
    private readonly CountingBackend _counting;
    private readonly Fleet _fleet;

    public RollingRecycleTests()
    {
        _counting = new CountingBackend(_t.Backend);
        _fleet = new Fleet(_counting);
    }

    public void Dispose() => _t.Dispose();

    private RecycleService Service => new(_fleet, _t.Reporter);

    private IReadOnlyList<RecycledServer> Recycle(string[] farms, int batchSize, bool sideBySide = false, bool lockstep = false)
    {
        var plans = Service.Plan(farms, null, batchSize).Items;
        return Service.Execute(plans, new RecycleOptions { Timeout = TimeSpan.FromMinutes(10), SideBySide = sideBySide, Lockstep = lockstep }, CancellationToken.None);
    }

    /// <summary>Boots of 10 to 70 s, the same on every run.</summary>
    private void VariableBoots() => _t.Backend.Simulate(o =>
    {
        o.BootDelay = TimeSpan.FromSeconds(10);
        o.BootSpread = TimeSpan.FromSeconds(60);
        o.BootSeed = 11;
    });

    private (List<int> inFlightAtPolls, TimeSpan took) Watch(Action run)
    {
        var inFlight = new List<int>();
        _counting.OnPoll = () => inFlight.Add(_counting.Launched - _counting.Terminated);
        var start = _t.Clock.UtcNow;
        run();
        return (inFlight, _t.Clock.UtcNow - start);
    }

    [Fact]
    public void The_window_is_refilled_as_each_replacement_runs_so_it_stays_full_until_the_last_launch()
    {
        VariableBoots();

        var (_, took) = Watch(() => Recycle(new[] { "Production" }, batchSize: 3));

        Assert.Equal(7, _counting.Launched);
        Assert.Equal(3, _counting.MostInFlight);
        Assert.True(_counting.LaunchCalls > 3, $"launched in {_counting.LaunchCalls} calls: the window was never refilled one by one");

        // Lockstep, with the same boots, waits for each batch's slowest, and takes longer.
        using var again = new TestFleet();
        var lockstep = new CountingBackend(again.Backend);
        again.Backend.Simulate(o =>
        {
            o.BootDelay = TimeSpan.FromSeconds(10);
            o.BootSpread = TimeSpan.FromSeconds(60);
            o.BootSeed = 11;
        });
        var service = new RecycleService(new Fleet(lockstep), again.Reporter);
        var start = again.Clock.UtcNow;
        service.Execute(service.Plan(new[] { "Production" }, null, 3).Items, new RecycleOptions { Lockstep = true, Timeout = TimeSpan.FromMinutes(10) }, CancellationToken.None);
        var lockstepTook = again.Clock.UtcNow - start;
        Assert.True(took < lockstepTook, $"rolling took {took}, lockstep {lockstepTook}");
    }

    [Fact]
    public void While_old_servers_wait_every_poll_sees_the_window_full()
    {
        VariableBoots();
        var samples = new List<(int inFlight, int launched)>();
        _counting.OnPoll = () => samples.Add((_counting.Launched - _counting.Terminated, _counting.Launched));

        Recycle(new[] { "Production" }, batchSize: 3);

        var whileWaiting = samples.Where(s => s.launched < 7).ToList();
        Assert.NotEmpty(whileWaiting);
        Assert.All(whileWaiting, s => Assert.Equal(3, s.inFlight));
        Assert.Contains(samples, s => s.launched > 3 && s.launched < 7); // refilled before the last batch would have started
    }

    [Fact]
    public void Farms_go_one_after_another_in_the_order_typed()
    {
        var recycled = Recycle(new[] { "Production", "Dev" }, batchSize: 2);
        Assert.Equal(new[] { "Production", "Dev" }, recycled.Select(r => r.Farm).Distinct());
        Assert.Equal(7, recycled.TakeWhile(r => r.Farm == "Production").Count());
        Assert.Equal(2, _counting.MostInFlight);

        var reversed = Recycle(new[] { "Dev", "Production" }, batchSize: 2);
        Assert.Equal(new[] { "Dev", "Production" }, reversed.Select(r => r.Farm).Distinct());
        Assert.Equal(6, reversed.TakeWhile(r => r.Farm == "Dev").Count());
    }

    [Fact]
    public void Side_by_side_farms_each_keep_their_own_window_and_take_as_long_as_the_slower_farm()
    {
        _t.Backend.Simulate(o => o.BootDelay = TimeSpan.FromSeconds(10));
        var (_, oneAfterAnother) = Watch(() => Recycle(new[] { "Production", "Dev" }, batchSize: 2));

        var (_, sideBySide) = Watch(() => Recycle(new[] { "Production", "Dev" }, batchSize: 2, sideBySide: true));

        Assert.Equal(4, _counting.MostInFlight);
        // Production: 7 servers, 2 at a time, 10 s each: 4 rounds. Dev alone would take 3.
        Assert.InRange(sideBySide, TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(42));
        Assert.True(oneAfterAnother >= TimeSpan.FromSeconds(70), $"one after another took {oneAfterAnother}");
        Assert.All(_t.Servers("Production").Concat(_t.Servers("Dev")), s => Assert.Equal(ServerStatus.Running, s.Status));
    }

    [Fact]
    public void The_first_failure_stops_new_launches_in_every_farm_and_lets_those_in_flight_finish()
    {
        VariableBoots();
        _t.Backend.Simulate(o => o.FailBoot.Add("Dev/NodeAppServer"));
        var oldNode = _t.Server("Dev", "NodeAppServer");
        DateTimeOffset? failedAt = null;
        var launchTimes = new List<DateTimeOffset>();
        var terminateTimes = new List<DateTimeOffset>();
        _counting.OnLaunch = () => launchTimes.Add(_t.Clock.UtcNow);
        _counting.OnTerminate = () => terminateTimes.Add(_t.Clock.UtcNow);
        _counting.OnPoll = () => failedAt ??= _t.Backend.GetServers(new ServerQuery { Farms = new[] { "Dev" }, Aliases = new[] { "NodeAppServer" } })
            .Any(s => s.Status == ServerStatus.Failed) ? _t.Clock.UtcNow : null;

        var stopped = Assert.Throws<RecycleStoppedException>(() => Recycle(new[] { "Production", "Dev" }, batchSize: 2, sideBySide: true));

        Assert.Equal(TtmErrorCode.ReplacementFailed, stopped.Code);
        Assert.NotNull(failedAt);
        Assert.All(launchTimes, t => Assert.True(t < failedAt, "a launch after the failure was seen"));
        Assert.True(_counting.Launched < 13, "every server was launched for: the failure stopped nothing");
        // Replacements in flight when the failure came finished and replaced their old servers.
        Assert.Contains(terminateTimes, t => t > failedAt);
        Assert.Equal(_counting.Launched - 1, stopped.Completed.Count);
        // The failed replacement's old server is kept; every farm role has its count running, none pending.
        Assert.Contains(_t.Servers("Dev", "NodeAppServer"), s => s.Id == oldNode.Id && s.Status == ServerStatus.Running);
        foreach (var farmRole in _t.Backend.GetFarmRoles(new[] { "Production", "Dev" }))
        {
            var live = _t.Backend.GetServers(new ServerQuery { Farms = new[] { farmRole.Farm }, Aliases = new[] { farmRole.Alias } })
                .Where(s => s.Status is ServerStatus.Running or ServerStatus.Pending).ToList();
            Assert.Equal(farmRole.DesiredCount, live.Count(s => s.Status == ServerStatus.Running));
            Assert.DoesNotContain(live, s => s.Status == ServerStatus.Pending);
        }
    }
}

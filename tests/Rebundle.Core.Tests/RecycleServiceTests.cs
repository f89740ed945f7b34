using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Tests;

public class RecycleServiceTests : IDisposable
{
    private readonly TestFleet _t = new();
    private readonly CountingBackend _counting;
    private readonly Fleet _fleet;

    public RecycleServiceTests()
    {
        _counting = new CountingBackend(_t.Backend);
        _fleet = new Fleet(_counting);
    }

    public void Dispose() => _t.Dispose();

    private RecycleService Service => new(_fleet, _t.Reporter);

    private IReadOnlyList<RecycledServer> Recycle(string farm, int batchSize, string[]? aliases = null, TimeSpan? timeout = null)
    {
        var plan = Service.Plan(new[] { farm }, aliases, batchSize).Items.Single();
        return Service.Execute(plan, timeout ?? TimeSpan.FromMinutes(5), CancellationToken.None);
    }

    [Fact]
    public void Every_server_is_replaced_by_one_running_the_farm_roles_current_role()
    {
        _t.Backend.SetFarmRoleRole(_t.Fleet.RequireFarmRole("Dev", "RailsAppServer"), "RailsAppServer-1-6");
        var before = _t.Servers("Dev");

        var recycled = Recycle("Dev", batchSize: 1);

        Assert.Equal(before.Count, recycled.Count);
        var after = _t.Servers("Dev");
        Assert.Equal(before.Count, after.Count);
        Assert.Empty(after.Select(s => s.Id).Intersect(before.Select(s => s.Id)));
        Assert.All(after, s => Assert.Equal(ServerStatus.Running, s.Status));
        Assert.Equal("RailsAppServer-1-6", after.Single(s => s.Alias == "RailsAppServer").Role);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Never_more_than_batch_size_servers_are_replaced_at_once(int batchSize)
    {
        _t.Backend.Simulate(o => o.BootDelay = TimeSpan.FromSeconds(20));
        Recycle("Production", batchSize);
        Assert.Equal(7, _counting.Launched);
        Assert.Equal(batchSize, _counting.MostInFlight);
    }

    [Fact]
    public void Capacity_never_drops_below_what_the_farm_role_wants()
    {
        _counting.OnTerminate = () =>
        {
            var running = _t.Backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, Aliases = new[] { "RailsAppServer" } })
                .Count(s => s.Status == ServerStatus.Running);
            Assert.True(running >= 2, $"only {running} RailsAppServer servers were running when one was terminated");
        };
        Recycle("Production", batchSize: 2, aliases: new[] { "RailsAppServer" });
    }

    [Fact]
    public void A_replacement_that_fails_stops_the_recycle_and_keeps_the_old_server()
    {
        _t.Backend.Simulate(o => o.FailBoot.Add("Dev/RailsAppServer"));
        var oldRails = _t.Server("Dev", "RailsAppServer");

        var stopped = Assert.Throws<RecycleStoppedException>(() => Recycle("Dev", batchSize: 1));

        Assert.Equal(TtmErrorCode.ReplacementFailed, stopped.Code);
        Assert.Contains("RailsAppServer.1", stopped.Message);
        // Aliases recycle in order DevDebug, NodeAppServer, RailsAppServer: two done, then the stop.
        Assert.Equal(new[] { "DevDebug", "NodeAppServer" }, stopped.Completed.Select(r => r.Alias));
        Assert.Equal(oldRails.Id, _t.Server("Dev", "RailsAppServer").Id);
        Assert.Equal(ServerStatus.Running, _t.Server("Dev", "RailsAppServer").Status);
        Assert.Equal(_t.Server("Dev", "Reports").Id, _t.Servers("Dev", "Reports").Single().Id);
        Assert.DoesNotContain(_t.Servers("Dev"), s => s.Status == ServerStatus.Failed);
    }

    [Fact]
    public void A_replacement_that_never_runs_times_out_and_the_old_server_stays()
    {
        _t.Backend.Simulate(o => o.NeverBoot.Add("Dev/DevDebug"));
        var old = _t.Server("Dev", "DevDebug");

        var stopped = Assert.Throws<RecycleStoppedException>(() => Recycle("Dev", 1, timeout: TimeSpan.FromMinutes(2)));

        Assert.Equal(TtmErrorCode.ReplacementTimeout, stopped.Code);
        Assert.Contains("DevDebug.1", stopped.Message);
        Assert.Contains("00:02:00", stopped.Message);
        Assert.Equal(old.Id, Assert.Single(_t.Servers("Dev", "DevDebug")).Id);
    }

    [Fact]
    public void Cancelling_mid_wait_leaves_the_old_servers_running()
    {
        _t.Backend.Simulate(o => o.BootDelay = TimeSpan.FromSeconds(30));
        var before = _t.Servers("Dev", "Sidekiq").Single();
        using var cancel = new CancellationTokenSource();
        _counting.OnPoll = () => cancel.Cancel();
        var plan = Service.Plan(new[] { "Dev" }, new[] { "Sidekiq" }, 1).Items.Single();

        Assert.ThrowsAny<OperationCanceledException>(() => Service.Execute(plan, TimeSpan.FromMinutes(5), cancel.Token));

        var sidekiq = _t.Servers("Dev", "Sidekiq");
        Assert.Contains(sidekiq, s => s.Id == before.Id && s.Status == ServerStatus.Running);
    }

    [Fact]
    public void Only_the_named_aliases_are_recycled_and_unknown_ones_are_reported()
    {
        var plans = Service.Plan(new[] { "Dev" }, new[] { "Sidekiq", "Sidekick" }, 1);
        Assert.Equal(new[] { "Sidekiq.1" }, plans.Items.Single().Batches.SelectMany(b => b).Select(s => s.Name));
        var miss = Assert.Single(plans.Misses);
        Assert.Equal(TtmErrorCode.FarmRoleNotFound, miss.Code);
        Assert.Contains("Did you mean 'Sidekiq'?", miss.Message);
    }

    [Fact]
    public void A_batch_size_below_one_is_refused()
    {
        var error = Assert.Throws<TtmException>(() => Service.Plan(new[] { "Dev" }, null, 0));
        Assert.Equal(TtmErrorCode.InvalidArgument, error.Code);
    }
}

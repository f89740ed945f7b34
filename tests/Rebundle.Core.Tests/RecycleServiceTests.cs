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
        // Launch first: both replacements run before either old server goes (in one batched
        // termination). Counted at each termination and asserted afterwards, so a recycle that
        // terminates nothing fails too.
        var runningAtEachTermination = new List<int>();
        _counting.OnTerminate = () => runningAtEachTermination.Add(
            _t.Backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, Aliases = new[] { "RailsAppServer" } })
                .Count(s => s.Status == ServerStatus.Running));

        var recycled = Recycle("Production", batchSize: 2, aliases: new[] { "RailsAppServer" });

        Assert.Equal(2, recycled.Count);
        Assert.Equal(2, _counting.Terminated);
        Assert.Equal(new[] { 4 }, runningAtEachTermination);
        Assert.Equal(2, _t.Servers("Production", "RailsAppServer").Count(s => s.Status == ServerStatus.Running));
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

    private static IReadOnlyList<string> Ids(IEnumerable<Server> servers) => servers.Select(s => s.Id).OrderBy(i => i).ToList();

    private IReadOnlyList<Server> Live(string farm, string? alias = null) =>
        _t.Servers(farm, alias).Where(s => s.Status is ServerStatus.Running or ServerStatus.Pending).ToList();

    private IReadOnlyList<RecycledServer> RecycleAll(RecycleScope scope, int batchSize = 1, CancellationToken cancellation = default) =>
        Service.Plan(scope, batchSize).Items.SelectMany(p => Service.Execute(p, TimeSpan.FromMinutes(5), cancellation)).ToList();

    [Fact]
    public void Servers_in_scope_are_the_only_ones_replaced()
    {
        var sidekiq = _t.Server("Dev", "Sidekiq");
        var reports = _t.Server("Dev", "Reports");
        var others = _t.Servers("Dev").Where(s => s.Id != sidekiq.Id && s.Id != reports.Id).ToList();

        var recycled = RecycleAll(new RecycleScope().AddServer(sidekiq).AddServer(reports));

        Assert.Equal(Ids(new[] { sidekiq, reports }), recycled.Select(r => r.OldId).OrderBy(i => i));
        var after = Live("Dev");
        Assert.Equal(6, after.Count);
        Assert.Equal(Ids(others), Ids(after.Where(s => s.Alias is not ("Sidekiq" or "Reports"))));
        Assert.DoesNotContain(after, s => s.Id == sidekiq.Id || s.Id == reports.Id);
    }

    [Fact]
    public void Farm_roles_in_scope_are_the_only_ones_replaced_and_farms_go_in_the_order_given()
    {
        var untouched = Ids(_t.Servers("Dev").Where(s => s.Alias != "Sidekiq").Concat(_t.Servers("Production").Where(s => s.Alias != "RailsAppServer")));
        var scope = new RecycleScope().AddFarmRole("Production", "RailsAppServer").AddFarmRole("Dev", "Sidekiq");

        var plans = Service.Plan(scope, 1).Items;
        var recycled = plans.SelectMany(p => Service.Execute(p, TimeSpan.FromMinutes(5), CancellationToken.None)).ToList();

        Assert.Equal(new[] { "Production", "Dev" }, plans.Select(p => p.Farm));
        Assert.Equal(new[] { "Production/RailsAppServer", "Production/RailsAppServer", "Dev/Sidekiq" }, recycled.Select(r => r.Farm + "/" + r.Alias));
        Assert.Equal(untouched, Ids(Live("Dev").Where(s => s.Alias != "Sidekiq").Concat(Live("Production").Where(s => s.Alias != "RailsAppServer"))));
        Assert.Equal(2, Live("Production", "RailsAppServer").Count);
    }

    [Fact]
    public void Surplus_from_an_interrupted_run_is_used_and_the_rest_trimmed_to_the_count()
    {
        // An interrupted run left two extra Sidekiq servers: one from before the role's image
        // changed, one on the current image. Sidekiq wants one.
        var old = _t.Server("Dev", "Sidekiq");
        var farmRole = _t.Fleet.RequireFarmRole("Dev", "Sidekiq");
        var stale = _t.Backend.LaunchServer(farmRole);
        _t.Clock.Advance(TimeSpan.FromMinutes(1));
        var sidekiqRole = _t.Fleet.Roles().Require("Sidekiq");
        var newImage = _t.Fleet.Roles().Require("TTM-Base").ImageId;
        _t.Backend.SetRoleImage(sidekiqRole, newImage);
        var current = _t.Backend.LaunchServer(farmRole);
        _t.Clock.Advance(TimeSpan.FromMinutes(1));

        var plan = Service.Plan(new[] { "Dev" }, new[] { "Sidekiq" }, 1).Items.Single();
        Assert.Contains($"use surplus {current.Name} ({current.Id}) for {old.Name}", plan.Description);
        Assert.Contains($"terminate surplus {stale.Name} ({stale.Id})", plan.Description);
        Assert.Contains(_t.Reporter.Messages, m => m.StartsWith("WARNING: Farm role Dev/Sidekiq has 3 live servers for a count of 1"));
        var recycled = Service.Execute(plan, TimeSpan.FromMinutes(5), CancellationToken.None);

        Assert.Equal(0, _counting.Launched);
        Assert.Equal(current.Id, Assert.Single(recycled).NewId);
        var left = Assert.Single(Live("Dev", "Sidekiq"));
        Assert.Equal((current.Id, newImage, ServerStatus.Running), (left.Id, left.ImageId, left.Status));
    }

    [Fact]
    public void Surplus_on_an_old_image_is_terminated_once_the_piped_servers_are_replaced()
    {
        var farmRole = _t.Fleet.RequireFarmRole("Production", "RailsAppServer");
        var rails = _t.Servers("Production", "RailsAppServer");
        var stale = _t.Backend.LaunchServer(farmRole);
        _t.Clock.Advance(TimeSpan.FromMinutes(1));
        _t.Backend.SetRoleImage(_t.Fleet.Roles().Require("RailsAppServer"), _t.Fleet.Roles().Require("TTM-Base").ImageId);

        var recycled = Assert.Single(RecycleAll(new RecycleScope().AddServer(rails[0])));

        Assert.Equal(1, _counting.Launched);
        var left = Live("Production", "RailsAppServer");
        Assert.Equal(Ids(new[] { rails[1].Id, recycled.NewId }.Select(id => new Server { Id = id })), Ids(left));
        Assert.DoesNotContain(left, s => s.Id == stale.Id);
    }

    [Fact]
    public void Cancelling_mid_wait_leaves_every_farm_role_at_exactly_its_count()
    {
        _t.Backend.Simulate(o => o.BootDelay = TimeSpan.FromSeconds(30));
        var before = Ids(_t.Servers("Production"));
        using var cancel = new CancellationTokenSource();
        _counting.OnPoll = () => cancel.Cancel();
        var plan = Service.Plan(new[] { "Production" }, null, 3).Items.Single();

        Assert.ThrowsAny<OperationCanceledException>(() => Service.Execute(plan, TimeSpan.FromMinutes(5), cancel.Token));

        Assert.Equal(3, _counting.Launched);
        Assert.Equal(before, Ids(Live("Production")));
    }

    [Fact]
    public void A_refused_launch_stops_new_launches_and_lets_those_in_flight_finish()
    {
        var before = Ids(_t.Servers("Dev"));
        _counting.OnLaunch = () =>
        {
            if (_counting.Launched == 2) throw new TtmException(TtmErrorCode.ApprovalRequired, "Refused by the test.");
        };

        var stopped = Assert.Throws<RecycleStoppedException>(() => RecycleAll(Runbook.RecycleScope.Of(new[] { "Dev" }), batchSize: 3));

        Assert.Equal(TtmErrorCode.ApprovalRequired, stopped.Code);
        Assert.Equal(2, stopped.Completed.Count);
        Assert.Equal(2, _counting.Launched);
        var live = Ids(Live("Dev"));
        Assert.Equal(before.Count, live.Count);
        // The olds of the two that ran are gone; every other old server is still there.
        Assert.Equal(before.Except(stopped.Completed.Select(r => r.OldId)).OrderBy(i => i), live.Intersect(before).OrderBy(i => i));
    }

    [Fact]
    public void A_refused_termination_of_an_old_server_terminates_its_replacement()
    {
        var before = Ids(_t.Servers("Dev", "Sidekiq"));
        var refused = false;
        _counting.OnTerminate = () =>
        {
            if (refused) return;
            refused = true;
            throw new TtmException(TtmErrorCode.ApprovalRequired, "Refused by the test.");
        };

        var stopped = Assert.Throws<RecycleStoppedException>(() => RecycleAll(Runbook.RecycleScope.Of(new[] { "Dev" }, new[] { "Sidekiq" })));

        Assert.Equal(TtmErrorCode.ApprovalRequired, stopped.Code);
        Assert.Equal(before, Ids(Live("Dev", "Sidekiq")));
    }

    [Fact]
    public void A_failed_replacement_in_a_batch_leaves_each_farm_role_at_its_count()
    {
        _t.Backend.Simulate(o => o.FailBoot.Add("Dev/NodeAppServer"));

        Assert.Throws<RecycleStoppedException>(() => RecycleAll(Runbook.RecycleScope.Of(new[] { "Dev" }), batchSize: 3));

        Assert.Equal(6, Live("Dev").Count);
        Assert.All(_t.Fleet.GetFarmRoles(new[] { "Dev" }, null).Items, r => Assert.Single(Live("Dev", r.Alias)));
    }
}

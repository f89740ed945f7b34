using System;
using System.Linq;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.ScalrApi;

namespace Rebundle.Scalr.Tests;

/// <summary>
/// The loopback's scaling engine, as strict as Scalr's: a farm role below its minInstances gets
/// one server a run (every 60 s on the loopback clock), one above its maxInstances loses its
/// oldest running server, and a launch past maxInstances is refused.
/// </summary>
public class ScalingEngineTests
{
    private static readonly TimeSpan Run = TimeSpan.FromSeconds(60);

    [Fact]
    public void A_terminated_server_is_replaced_at_the_next_scaling_run_not_before()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var old = backend.GetServers(new ServerQuery { Farms = new[] { "Dev" }, Aliases = new[] { "Reports" } }).Single();
        scalr.Clock.Advance(TimeSpan.FromSeconds(10));
        backend.TerminateServer(old);

        scalr.Clock.Advance(TimeSpan.FromSeconds(49)); // 59 s: terminated (20 s), but Scalr's scaling has not run yet
        Assert.Empty(Live(backend, "Dev", "Reports"));
        Assert.Empty(Events(scalr));

        scalr.Clock.Advance(TimeSpan.FromSeconds(1)); // the run at 60 s
        var launched = Assert.Single(Live(backend, "Dev", "Reports"));
        Assert.Equal(ServerStatus.Pending, launched.Status);
        var e = Assert.Single(Events(scalr));
        Assert.Equal(("Dev", "Reports", "launch", launched.Id), (e.Farm, e.Alias, e.Action, e.ServerId));
        Assert.Equal(scalr.Clock.UtcNow, e.At);
        Assert.Equal(ScalingEngine.LaunchReason, scalr.Server.World.Servers.Single(s => s.Id == launched.Id).LaunchReason);

        scalr.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(ServerStatus.Running, Assert.Single(Live(backend, "Dev", "Reports")).Status);
        Assert.Single(Events(scalr)); // at its count: no further launch
    }

    [Fact]
    public void Two_missing_servers_come_back_one_a_run()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        foreach (var server in Live(backend, "Production", "RailsAppServer")) backend.TerminateServer(server);

        scalr.Clock.Advance(Run);
        Assert.Single(Live(backend, "Production", "RailsAppServer"));
        scalr.Clock.Advance(Run);
        Assert.Equal(2, Live(backend, "Production", "RailsAppServer").Count);
        scalr.Clock.Advance(Run * 3);
        Assert.Equal(2, Live(backend, "Production", "RailsAppServer").Count(s => s.Status == ServerStatus.Running));
        Assert.Equal(new[] { "launch", "launch" }, Events(scalr).Select(e => e.Action));
    }

    [Fact]
    public void Above_max_the_oldest_running_server_is_terminated_one_a_run()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var world = scalr.Server.World;
        var seeded = Assert.Single(Live(backend, "Dev", "Sidekiq"));
        scalr.Clock.Advance(TimeSpan.FromSeconds(1));
        lock (world.Gate)
        {
            // Someone launched two more than Dev/Sidekiq may have (min 1, max 3 → 5 is two too many).
            var farmRole = world.FarmRoles.Single(r => r.Id.ToString() == seeded.FarmRoleId);
            for (var i = 0; i < 4; i++) world.Launch(farmRole);
        }

        scalr.Clock.Advance(Run); // still booting: Scalr counts only running servers above max
        Assert.Equal(5, Live(backend, "Dev", "Sidekiq").Count);
        Assert.Empty(Events(scalr));

        scalr.Clock.Advance(Run * 2);
        var live = Live(backend, "Dev", "Sidekiq");
        Assert.Equal(3, live.Count);
        Assert.DoesNotContain(live, s => s.Id == seeded.Id); // the oldest went first
        Assert.Equal(new[] { "terminate", "terminate" }, Events(scalr).Select(e => e.Action));
        Assert.Equal(seeded.Id, Events(scalr)[0].ServerId);
    }

    [Fact]
    public void A_launch_past_max_instances_is_refused_and_max_may_not_go_below_min()
    {
        using var scalr = new LoopbackScalr();
        using var client = scalr.Client();
        var farmRole = scalr.Server.World.FarmRoles.First(r => r.Alias == "Reports");
        var patch = Assert.Throws<TtmException>(() => client.Patch($"farm-roles/{farmRole.Id}/", new { scaling = new { maxInstances = 0 } }));
        Assert.Equal("InvalidValue", patch.BackendCode);
        client.Patch($"farm-roles/{farmRole.Id}/", new { scaling = new { maxInstances = 1 } });

        var launch = Assert.Throws<TtmException>(() => client.Post($"farm-roles/{farmRole.Id}/servers/", null));

        Assert.Equal("UnacceptableState", launch.BackendCode);
        Assert.Contains("Max instances limit reached", launch.Message);
        Assert.Single(scalr.Server.World.Servers, s => s.FarmRoleId == farmRole.Id);
    }

    [Fact]
    public void A_farm_that_is_not_running_is_not_scaled()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        lock (scalr.Server.World.Gate) scalr.Server.World.Farms.Single(f => f.Name == "Dev").Status = "terminated";
        backend.TerminateServer(Live(backend, "Dev", "Reports").Single());

        scalr.Clock.Advance(Run * 3);

        Assert.Empty(Live(backend, "Dev", "Reports"));
        Assert.Empty(Events(scalr));
    }

    internal static System.Collections.Generic.List<Server> Live(ScalrBackend backend, string farm, string alias) =>
        backend.GetServers(new ServerQuery { Farms = new[] { farm }, Aliases = new[] { alias } })
            .Where(s => s.Status is ServerStatus.Running or ServerStatus.Pending).ToList();

    /// <summary>What the engine did up to the clock's now.</summary>
    internal static System.Collections.Generic.IReadOnlyList<ScalingEvent> Events(LoopbackScalr scalr)
    {
        lock (scalr.Server.World.Gate)
        {
            scalr.Server.World.CatchUpScaling();
            return scalr.Server.World.ScalingEvents;
        }
    }
}

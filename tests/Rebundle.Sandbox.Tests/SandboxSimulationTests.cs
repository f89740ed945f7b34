using Rebundle.Backends;
using Rebundle.Domain;
using Xunit;

namespace Rebundle.Sandbox.Tests;

public class SandboxSimulationTests : IDisposable
{
    private readonly TestFleet _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public void A_launched_server_is_pending_until_it_has_booted()
    {
        _t.Backend.Simulate(o => o.BootDelay = TimeSpan.FromSeconds(5));
        var farmRole = _t.Fleet.RequireFarmRole("Dev", "Reports");
        var server = _t.Backend.LaunchServer(farmRole);
        Assert.Equal(ServerStatus.Pending, server.Status);
        Assert.Equal("Reports.2", server.Name);
        _t.Clock.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal(ServerStatus.Pending, Status(server));
        _t.Clock.Advance(TimeSpan.FromSeconds(0.2));
        Assert.Equal(ServerStatus.Running, Status(server));
    }

    [Fact]
    public void A_terminated_server_respawns_after_the_respawn_delay()
    {
        _t.Backend.Simulate(o => { o.RespawnDelay = TimeSpan.FromSeconds(3); o.BootDelay = TimeSpan.FromSeconds(2); });
        var old = _t.Server("Dev", "NodeAppServer");
        _t.Backend.TerminateServer(old);
        Assert.Empty(_t.Servers("Dev", "NodeAppServer"));

        _t.Clock.Advance(TimeSpan.FromSeconds(3));
        var respawned = Assert.Single(_t.Servers("Dev", "NodeAppServer"));
        Assert.NotEqual(old.Id, respawned.Id);
        Assert.Equal("NodeAppServer.1", respawned.Name);
        Assert.Equal(ServerStatus.Pending, respawned.Status);

        _t.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(ServerStatus.Running, Status(respawned));
        Assert.Single(_t.Servers("Dev", "NodeAppServer"));
    }

    [Fact]
    public void Images_become_available_after_the_image_delay_or_fail_when_told()
    {
        _t.Backend.Simulate(o => { o.ImageDelay = TimeSpan.FromSeconds(10); o.FailImage.Add("Reports-1-9"); });
        var server = _t.Server("Rebundle-Staging", "RailsAppServer");
        var good = _t.Backend.CreateImage(server, "Sidekiq-1-9");
        var bad = _t.Backend.CreateImage(server, "Reports-1-9");
        Assert.Equal(ImageStatus.Pending, good.Status);
        _t.Clock.Advance(TimeSpan.FromSeconds(10));
        var now = _t.Backend.GetImages(new[] { good.Id, bad.Id }).ToDictionary(i => i.Id);
        Assert.Equal(ImageStatus.Available, now[good.Id].Status);
        Assert.Equal(ImageStatus.Failed, now[bad.Id].Status);
        Assert.Equal(server.Id, now[good.Id].SourceServerId);
    }

    [Fact]
    public void A_read_that_changes_nothing_leaves_the_file_byte_for_byte()
    {
        var before = File.ReadAllBytes(_t.StatePath);
        _t.Fleet.GetServers(null, null, null);
        _t.Fleet.Roles();
        _t.Fleet.GetFarmRoles(null, null);
        _t.Clock.Advance(TimeSpan.FromMinutes(5));
        _t.Fleet.GetServers(null, null, null);
        Assert.Equal(before, File.ReadAllBytes(_t.StatePath));
    }

    private ServerStatus Status(Server server) =>
        _t.Backend.GetServers(new ServerQuery { Ids = new[] { server.Id }, IncludeTerminated = true }).Single().Status;
}

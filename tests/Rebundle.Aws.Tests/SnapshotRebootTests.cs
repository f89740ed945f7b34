using System;
using System.Linq;
using Rebundle.Backends;
using Rebundle.Domain;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>
/// EC2's CreateImage reboots the instance unless NoReboot is set: the instance stays
/// "running", but its status checks are gone until it is back, so the server is not Running
/// (serving) meanwhile. The endpoint models it, so a snapshot of a serving server shows its cost.
/// </summary>
public class SnapshotRebootTests
{
    private static readonly TimeSpan Reboot = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan Checks = TimeSpan.FromMinutes(1);

    private static (AwsFleet Fleet, Server Server) ServingServer()
    {
        var fleet = new AwsFleet(configure: s => { s.RebootTime = Reboot; s.StatusCheckTime = Checks; s.InsufficientDataTime = TimeSpan.Zero; });
        fleet.Clock.Advance(TimeSpan.FromMinutes(5)); // the seeded servers' own boot checks have passed
        var server = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, Aliases = new[] { "Sidekiq" } }).Single();
        Assert.Equal(ServerStatus.Running, server.Status);
        return (fleet, server);
    }

    private static ServerStatus StatusOf(AwsFleet fleet, Server server) =>
        fleet.Backend.GetServers(new ServerQuery { Ids = new[] { server.Id } }).Single().Status;

    private static bool Serving(AwsFleet fleet, Server server) =>
        fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, Statuses = new[] { ServerStatus.Running } }).Any(s => s.Id == server.Id);

    [Fact]
    public void A_snapshot_with_NoReboot_leaves_the_servers_status_checks_passing_throughout()
    {
        var (fleet, server) = ServingServer();
        using var _ = fleet;

        fleet.Backend.CreateImage(server, "Sidekiq-1-7", noReboot: true);

        foreach (var step in new[] { TimeSpan.Zero, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2) })
        {
            fleet.Clock.Advance(step);
            Assert.Equal(ServerStatus.Running, StatusOf(fleet, server));
            Assert.True(Serving(fleet, server));
        }
    }

    [Fact]
    public void A_snapshot_without_NoReboot_takes_the_server_out_of_Running_until_its_checks_pass_again()
    {
        var (fleet, server) = ServingServer();
        using var _ = fleet;
        var instance = fleet.Ec2.Instances.Single(i => i.Id == server.Id);

        fleet.Backend.CreateImage(server, "Sidekiq-1-7", noReboot: false);

        Assert.Equal("running", fleet.Ec2.StateOf(instance)); // the instance state never changes; the checks do
        Assert.Equal(ServerStatus.Pending, StatusOf(fleet, server));
        Assert.False(Serving(fleet, server));

        fleet.Clock.Advance(Reboot + Checks - TimeSpan.FromSeconds(1));
        Assert.Equal(ServerStatus.Pending, StatusOf(fleet, server));
        Assert.Equal("running", fleet.Ec2.StateOf(instance));

        fleet.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ServerStatus.Running, StatusOf(fleet, server));
        Assert.True(Serving(fleet, server));
    }
}

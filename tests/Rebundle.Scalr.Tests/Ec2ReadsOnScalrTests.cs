using System;
using System.Linq;
using System.Threading;
using Rebundle.Domain;
using Rebundle.Runbook;

namespace Rebundle.Scalr.Tests;

/// <summary>
/// The Scalr backend's reads of EC2 (which image a server runs, how a snapshot is doing) against
/// the strict loopback endpoint: EC2's 200-value filter limit, and its "transient" image state (issue 21).
/// </summary>
public class Ec2ReadsOnScalrTests
{
    [Fact]
    public void An_environment_of_250_servers_reads_every_servers_image_in_calls_of_at_most_200_ids()
    {
        using var scalr = new LoopbackScalr(pageSize: 100, withEc2: true);
        var world = scalr.Server.World;
        lock (world.Gate)
        {
            var farmRole = world.FarmRoles.First(r => r.Alias == "RailsAppServer");
            for (var i = 0; i < 250; i++) world.Launch(farmRole);
        }
        using var fleet = new Fleet(scalr.Connect());
        scalr.Ec2!.ClearRequests();

        var servers = fleet.GetServers(null, null, null).Items;

        Assert.True(servers.Count > 250, $"{servers.Count} servers");
        var instances = scalr.Ec2.Instances.ToDictionary(i => i.Id, i => i.ImageId);
        Assert.All(servers, s => Assert.Equal(instances[world.Servers.Single(w => w.Id == s.Id).CloudServerId], s.ImageId));
        // More than 200 ids: one call per 200 (the endpoint refuses more, as EC2 does), never one per server.
        var reads = scalr.Ec2.Requests.Where(r => r.Action == "DescribeInstances").ToList();
        Assert.Equal((servers.Count + 199) / 200, reads.Count);
    }

    [Fact]
    public void A_snapshot_whose_image_passes_through_transient_waits_for_it_and_succeeds()
    {
        using var scalr = new LoopbackScalr(withEc2: true);
        // The last 40 of the image's 60 seconds, EC2 says "transient": still being made, not failed.
        scalr.Ec2!.Settings.ImageTransientTime = TimeSpan.FromSeconds(40);
        using var fleet = new Fleet(scalr.Connect());
        var server = fleet.GetServers(new[] { "Rebundle-Staging" }, new[] { "Sidekiq" }, null).Items.Single();
        var service = new SnapshotService(fleet, NullReporter.Instance);
        var plan = service.Plan(new[] { new SnapshotRequest { Server = server } }).Single().Plan!;

        var outcome = service.Execute(new[] { plan }, wait: true, TimeSpan.FromMinutes(10), CancellationToken.None).Single();

        Assert.Null(outcome.Error);
        Assert.Equal(ImageStatus.Available, outcome.Image!.Status);
        Assert.Equal(outcome.Image.Id, fleet.Roles().Require(outcome.Role!.Name).ImageId);
    }
}

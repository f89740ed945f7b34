using System.Collections.Generic;
using System.Linq;
using Rebundle.Audit;
using Rebundle.Backends;
using Rebundle.Safety;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>What EC2 offers, asked for through the audit wrapper as Connect-TtmFleet wires it.</summary>
public class CapabilityTests
{
    [Fact]
    public void Through_the_wrapper_EC2_offers_SSH_reachable_servers_and_image_lookup_but_not_its_leases()
    {
        using var fleet = new AwsFleet();
        var audited = new AuditingBackend(fleet.Backend, new ListSink(new List<AuditEntry>()), "ops@host");
        var server = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Rebundle-Staging" }, Aliases = new[] { "SystemWatcher" } }).Single();
        var made = fleet.Backend.CreateImage(server, "SystemWatcher-1-7");

        // Invoke-TtmRebundle runs its OS update and checks over SSH here without -Address.
        Assert.NotNull(audited.Capability<ISshReachableServers>());
        Assert.Equal(made.Id, Assert.Single(audited.Capability<IImageLookup>()!.FindImagesByName("SystemWatcher-1-7")).Id);
        // Leases change tags on the farm's templates: Connect-TtmFleet takes them from the backend itself.
        Assert.NotNull(fleet.Backend.Capability<IFarmLeases>());
        Assert.Null(audited.Capability<IFarmLeases>());
    }

    [Fact]
    public void Retiring_a_role_through_the_wrapper_deregisters_its_image_and_is_logged_intent_first()
    {
        using var fleet = new AwsFleet();
        var entries = new List<AuditEntry>();
        var audited = new AuditingBackend(fleet.Backend, new ListSink(entries), "ops@host");
        var image = fleet.Ec2.AddImage("Reports-1-7");
        var role = fleet.Backend.CreateRole("Reports-1-7", fleet.Fleet.Roles().Require("Reports"), image.Id);

        audited.Capability<IRoleRetirement>()!.DeleteRole(role, deleteImage: true);

        Assert.DoesNotContain(fleet.Ec2.Images, i => i.Id == image.Id);
        Assert.Equal(new[] { true, false }, entries.Select(e => e.IsIntent));
        Assert.All(entries, e => Assert.Equal(("DeleteRole", "role/Reports-1-7"), (e.Action, e.Target)));
    }
}

using System.Linq;
using Rebundle.Backends;
using Rebundle.Errors;
using Rebundle.Rebundling;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>The optional capabilities on EC2: images by name, and retiring old versioned roles.</summary>
public class RetirementTests
{
    [Fact]
    public void Images_are_found_by_their_exact_name()
    {
        using var fleet = new AwsFleet();
        var server = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Rebundle-Staging" }, Aliases = new[] { "SystemWatcher" } }).Single();
        var made = fleet.Backend.CreateImage(server, "SystemWatcher-1-7");

        var found = fleet.Backend.FindImagesByName("SystemWatcher-1-7");

        Assert.Equal(made.Id, Assert.Single(found).Id);
        Assert.Equal(server.Id, found[0].SourceServerId);
        Assert.Empty(fleet.Backend.FindImagesByName("SystemWatcher-1"));
    }

    [Fact]
    public void Deleting_a_role_with_its_own_image_removes_template_image_and_snapshot()
    {
        using var fleet = new AwsFleet();
        var image = fleet.Ec2.AddImage("Reports-1-7");
        var role = fleet.Backend.CreateRole("Reports-1-7", fleet.Fleet.Roles().Require("Reports"), image.Id);

        fleet.Backend.DeleteRole(role, deleteImage: true);

        Assert.Null(fleet.Ec2.LaunchTemplateNamed("role/Reports-1-7"));
        Assert.DoesNotContain(fleet.Ec2.Images, i => i.Id == image.Id);
        Assert.DoesNotContain(image.SnapshotId, fleet.Ec2.Snapshots);
        Assert.Equal("true", fleet.Ec2.Requests.Single(r => r.Action == "DeregisterImage").Parameters["DeleteAssociatedSnapshots"]);
    }

    [Fact]
    public void An_image_a_role_still_launches_from_is_kept()
    {
        using var fleet = new AwsFleet();
        var version = fleet.Fleet.Roles().Require("RailsAppServer-1-6"); // RailsAppServer runs the same image

        fleet.Backend.DeleteRole(version, deleteImage: true);

        Assert.Null(fleet.Ec2.LaunchTemplateNamed("role/RailsAppServer-1-6"));
        Assert.Contains(fleet.Ec2.Images, i => i.Id == version.ImageId);
        Assert.Equal(0, fleet.Calls("DeregisterImage"));
    }

    [Fact]
    public void A_role_a_farm_role_runs_is_never_deleted()
    {
        using var fleet = new AwsFleet();
        var role = fleet.Fleet.Roles().Require("TTM-Base");

        var error = Assert.Throws<TtmException>(() => fleet.Backend.DeleteRole(role, deleteImage: true));

        Assert.Equal(TtmErrorCode.InvalidArgument, error.Code);
        Assert.Contains("Rebundle-Staging/", error.Message);
        Assert.Empty(fleet.Mutations);
        Assert.NotNull(fleet.Ec2.LaunchTemplateNamed("role/TTM-Base"));
    }

    [Fact]
    public void Retirement_keeps_the_newest_versions_and_deletes_images_only_it_used()
    {
        using var fleet = new AwsFleet();
        var sidekiq = fleet.Fleet.Roles().Require("Sidekiq");
        var image17 = fleet.Ec2.AddImage("Sidekiq-1-7");
        var image18 = fleet.Ec2.AddImage("Sidekiq-1-8");
        fleet.Backend.CreateRole("Sidekiq-1-7", sidekiq, image17.Id);
        fleet.Backend.CreateRole("Sidekiq-1-8", sidekiq, image18.Id);
        var service = new RoleRetirementService(fleet.Fleet);

        var (retire, _) = service.Plan(keepLatest: 1, new[] { "Sidekiq" });
        foreach (var retirement in retire) service.Apply(retirement);

        Assert.Equal(new[] { "Sidekiq-1-6", "Sidekiq-1-7" }, retire.Select(r => r.Role.Name).OrderBy(n => n));
        Assert.Equal(new[] { "Sidekiq", "Sidekiq-1-8" }, fleet.Fleet.Roles().All.Where(r => r.BaseName == "Sidekiq").Select(r => r.Name).OrderBy(n => n));
        Assert.DoesNotContain(fleet.Ec2.Images, i => i.Id == image17.Id);
        Assert.Contains(fleet.Ec2.Images, i => i.Id == sidekiq.ImageId);
        Assert.Contains(fleet.Ec2.Images, i => i.Id == image18.Id);
    }
}

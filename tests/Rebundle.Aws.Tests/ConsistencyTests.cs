using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>
/// EC2's eventual consistency, switched on in the endpoint: what was just made stays out of
/// Describe* answers for <see cref="Delay"/> (NotFound when asked for by id), and AMIs can share
/// a snapshot. The backend's launches, waits, role changes and retirement work through it.
/// </summary>
public class ConsistencyTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(30);

    private static AwsFleet Fleet() => new(configure: s => s.VisibilityDelay = Delay);

    private static AmazonEC2Client RawClient(AwsFleet fleet) => new(
        new BasicAWSCredentials(TestAwsEnvironment.AccessKey, TestAwsEnvironment.SecretKey),
        new AmazonEC2Config { ServiceURL = fleet.Endpoint.Url.ToString(), AuthenticationRegion = TestAwsEnvironment.Region, MaxErrorRetry = 0 });

    [Fact]
    public void New_objects_are_NotFound_by_id_until_the_delay_has_passed_with_EC2s_codes()
    {
        using var fleet = Fleet();
        using var ec2 = RawClient(fleet);
        var server = fleet.Backend.LaunchServer(fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Reports"));
        var image = fleet.Backend.CreateImage(fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Dev" }, Aliases = new[] { "Sidekiq" } }).First(s => s.Status == ServerStatus.Running), "Sidekiq-1-7");
        var role = fleet.Backend.CreateRole("Reports-1-7", fleet.Fleet.Roles().Require("Reports"), fleet.Fleet.Roles().Require("Reports").ImageId);
        var templateId = fleet.Ec2.LaunchTemplateNamed("role/Reports-1-7")!.Id;

        string CodeOf(Func<System.Threading.Tasks.Task> call) => Assert.ThrowsAny<AmazonEC2Exception>(() => call().GetAwaiter().GetResult()).ErrorCode;
        Assert.Equal("InvalidInstanceID.NotFound", CodeOf(() => ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = new List<string> { server.Id } })));
        Assert.Equal("InvalidAMIID.NotFound", CodeOf(() => ec2.DescribeImagesAsync(new DescribeImagesRequest { ImageIds = new List<string> { image.Id } })));
        Assert.Equal("InvalidLaunchTemplateId.NotFound", CodeOf(() => ec2.DescribeLaunchTemplatesAsync(new DescribeLaunchTemplatesRequest { LaunchTemplateIds = new List<string> { templateId } })));
        Assert.Equal("InvalidLaunchTemplateName.NotFoundException", CodeOf(() => ec2.DescribeLaunchTemplatesAsync(new DescribeLaunchTemplatesRequest { LaunchTemplateNames = new List<string> { role.Id } })));

        fleet.Clock.Advance(Delay);
        Assert.Single(ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = new List<string> { server.Id } }).Result.Reservations);
        Assert.Single(ec2.DescribeImagesAsync(new DescribeImagesRequest { ImageIds = new List<string> { image.Id } }).Result.Images);
        Assert.Single(ec2.DescribeLaunchTemplatesAsync(new DescribeLaunchTemplatesRequest { LaunchTemplateIds = new List<string> { templateId } }).Result.LaunchTemplates);
    }

    [Fact]
    public void Two_launches_of_one_farm_role_before_either_is_visible_get_different_indexes()
    {
        using var fleet = Fleet();
        var farmRole = fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "RailsAppServer"); // runs RailsAppServer.1

        var first = fleet.Backend.LaunchServer(farmRole);
        var second = fleet.Backend.LaunchServer(farmRole);

        Assert.Equal(new[] { 2, 3 }, new[] { first.Index, second.Index });
        Assert.Equal(new[] { "2", "3" }, new[] { first.Id, second.Id }.Select(id => fleet.InstanceTags(id)["ttm:index"]));
        // Meanwhile the farm's reads show both, Pending, though EC2 does not list them yet.
        Assert.Equal(new[] { first.Id, second.Id }, fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Dev" }, Statuses = new[] { ServerStatus.Pending } }).Select(s => s.Id));
    }

    [Fact]
    public void A_farm_recycle_with_late_visibility_replaces_every_server_once_with_the_next_indexes()
    {
        using var fleet = Fleet();
        var recycle = new RecycleService(fleet.Fleet, new RecordingReporter());
        var before = fleet.Fleet.GetServers(new[] { "Production" }, null, null).Items;
        var plan = recycle.Plan(new[] { "Production" }, null, batchSize: 3).Items.Single();

        var done = recycle.Execute(plan, TimeSpan.FromMinutes(15), CancellationToken.None);

        Assert.Equal(7, done.Count);
        Assert.Equal(new[] { "RailsAppServer.3", "RailsAppServer.4" }, done.Where(d => d.Alias == "RailsAppServer").Select(d => d.NewServer).OrderBy(n => n));
        var after = fleet.Fleet.GetServers(new[] { "Production" }, null, new[] { ServerStatus.Running }).Items;
        Assert.Equal(7, after.Count);
        Assert.Empty(after.Select(s => s.Id).Intersect(before.Select(s => s.Id)));
    }

    [Fact]
    public void A_recycle_stopped_before_its_replacement_is_visible_still_terminates_the_replacement()
    {
        using var fleet = Fleet();
        using var cancel = new CancellationTokenSource();
        var recycle = new RecycleService(fleet.Fleet, new CancelOnFirstPoll(cancel));
        var old = fleet.Fleet.GetServers(new[] { "Dev" }, new[] { "Reports" }, null).Items.Single();
        var plan = recycle.Plan(new[] { "Dev" }, new[] { "Reports" }, batchSize: 1).Items.Single();

        Assert.ThrowsAny<OperationCanceledException>(() => recycle.Execute(plan, TimeSpan.FromMinutes(15), cancel.Token));

        var replacement = fleet.Ec2.Instances.Single(i => i.Tags["ttm:alias"] == "Reports" && i.Tags["ttm:farm"] == "Dev" && i.Id != old.Id);
        Assert.Equal("shutting-down", fleet.Ec2.StateOf(replacement));
        Assert.Equal("running", fleet.Ec2.StateOf(fleet.Ec2.Instances.Single(i => i.Id == old.Id)));
    }

    [Fact]
    public void A_snapshot_waits_through_an_unseen_image_and_its_new_role_is_usable_at_once()
    {
        using var fleet = Fleet();
        var snapshots = new SnapshotService(fleet.Fleet, new RecordingReporter());
        var server = fleet.Fleet.GetServers(new[] { "Rebundle-Staging" }, new[] { "Sidekiq" }, null).Items.Single();
        var plan = snapshots.Plan(new[] { new SnapshotRequest { Server = server } }).Single().Plan!;

        var outcome = snapshots.Execute(new[] { plan }, wait: true, TimeSpan.FromMinutes(15), CancellationToken.None).Single();

        Assert.Null(outcome.Error);
        Assert.Equal("Sidekiq-1-7", outcome.Role!.Name);
        // The template is not visible yet, yet the next runbook step finds the role and sets it.
        var assignments = new RoleAssignmentService(fleet.Fleet);
        assignments.Apply(assignments.PlanFarmRole("Dev", "Sidekiq-1-7", alias: null));
        Assert.Equal("Sidekiq-1-7", fleet.Ec2.LaunchTemplateNamed("farm/Dev/Sidekiq")!.Tags["ttm:role"]);
    }

    [Fact]
    public void Retiring_a_role_keeps_an_image_a_role_made_a_moment_ago_launches_from()
    {
        using var fleet = Fleet();
        var image = fleet.Ec2.AddImage("Reports-1-7");
        var old = fleet.Backend.CreateRole("Reports-1-7", fleet.Fleet.Roles().Require("Reports"), image.Id);
        fleet.Clock.Advance(Delay);
        fleet.Backend.CreateRole("Reports-1-8", fleet.Fleet.Roles().Require("Reports"), image.Id); // not visible yet

        fleet.Backend.DeleteRole(old, deleteImage: true);

        Assert.Null(fleet.Ec2.LaunchTemplateNamed("role/Reports-1-7"));
        Assert.Contains(fleet.Ec2.Images, i => i.Id == image.Id);
        Assert.Equal(0, fleet.Calls("DeregisterImage"));
    }

    [Fact]
    public void Retiring_an_image_whose_snapshot_another_image_shares_keeps_the_snapshot()
    {
        using var fleet = Fleet();
        var image = fleet.Ec2.AddImage("Reports-1-7");
        var copy = fleet.Ec2.AddImage("Reports-1-7-copy", sharesSnapshotOf: image);
        var role = fleet.Backend.CreateRole("Reports-1-7", fleet.Fleet.Roles().Require("Reports"), image.Id);
        fleet.Clock.Advance(Delay);

        fleet.Backend.DeleteRole(role, deleteImage: true);

        Assert.DoesNotContain(fleet.Ec2.Images, i => i.Id == image.Id);
        Assert.Contains(image.SnapshotId, fleet.Ec2.Snapshots);
        Assert.Equal(ImageStatus.Available, fleet.Backend.GetImages(new[] { copy.Id }).Single().Status);
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;

namespace Rebundle.Scalr.Tests;

/// <summary>
/// Snapshots on Scalr: EC2 CreateImage of the server's instance on the loopback EC2 endpoint,
/// the core's wait, then the image registered in Scalr and the role made or changed there.
/// </summary>
public class SnapshotOnScalrTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    [Fact]
    public void Step5_snapshots_each_staging_role_into_its_next_versioned_role()
    {
        using var scalr = new LoopbackScalr(withEc2: true);
        using var fleet = new Fleet(scalr.Connect());
        var service = new SnapshotService(fleet, NullReporter.Instance);
        var servers = fleet.GetServers(new[] { "Rebundle-Staging" }, null, null).Items.Where(s => s.Alias != "TTM-Base").ToList();
        Assert.Equal(5, servers.Count);
        var plans = service.Plan(servers.Select(s => new SnapshotRequest { Server = s }).ToList());
        Assert.All(plans, p => Assert.Null(p.Error));
        scalr.Ec2!.ClearRequests();

        var outcomes = service.Execute(plans.Select(p => p.Plan!).ToList(), wait: true, Timeout, CancellationToken.None);

        Assert.All(outcomes, o => Assert.Null(o.Error));
        Assert.Equal(new[] { "DevDebug-1-7", "NodeAppServer-1-7", "RailsAppServer-1-7", "Sidekiq-1-7", "SystemWatcher-1-7" },
            outcomes.Select(o => o.Role!.Name).OrderBy(n => n));
        // Each image is EC2's, made from that server's instance, tagged for the new role.
        var staging = scalr.Server.World.Servers.ToDictionary(s => s.Id, s => s.CloudServerId);
        foreach (var outcome in outcomes)
        {
            var image = scalr.Ec2.Images.Single(i => i.Id == outcome.Image!.Id);
            Assert.Equal(staging[outcome.Plan.Server.Id], image.SourceInstanceId);
            Assert.Equal(outcome.Role!.Name, image.Name);
        }
        Assert.Equal(5, scalr.Ec2.CountOf("CreateImage"));
        // One DescribeImages per poll for all five images, never one per image: 60 s of images at 5 s polls.
        // (The other five are the loopback Scalr checking each image exists as it is registered.)
        var describes = scalr.Ec2.Requests.Where(r => r.Action == "DescribeImages").ToList();
        var polls = describes.Count(r => r.Parameters.ContainsKey("Filter.1.Value.5"));
        Assert.InRange(polls, 1, 14);
        Assert.Equal(polls + 5, describes.Count);

        // Scalr now has the roles, each with its registered image, and they are the latest versions.
        var roles = fleet.Roles();
        Assert.Equal(outcomes.Select(o => o.Image!.Id).OrderBy(i => i), outcomes.Select(o => roles.Require(o.Role!.Name).ImageId).OrderBy(i => i));
        Assert.Equal("RailsAppServer-1-7", roles.LatestOf("RailsAppServer")!.Name);
        Assert.Equal(5, scalr.Count("POST", "images/"));
        Assert.Equal(5, scalr.Count("POST", "roles/"));
    }

    [Fact]
    public void Step1_replace_image_swaps_the_snapshot_into_the_base_role()
    {
        using var scalr = new LoopbackScalr(withEc2: true);
        using var fleet = new Fleet(scalr.Connect());
        var oldImage = fleet.Roles().Require("TTM-Base").ImageId;
        var server = fleet.GetServers(new[] { "Rebundle-Staging" }, new[] { "TTM-Base" }, null).Items.Single();
        var service = new SnapshotService(fleet, NullReporter.Instance);
        var plan = service.Plan(new[] { new SnapshotRequest { Server = server, ReplaceImage = true } }).Single().Plan!;

        var outcome = service.Execute(new[] { plan }, wait: true, Timeout, CancellationToken.None).Single();

        Assert.Null(outcome.Error);
        var role = fleet.Roles().Require("TTM-Base");
        Assert.Equal(outcome.Image!.Id, role.ImageId);
        Assert.NotEqual(oldImage, role.ImageId);
        Assert.Equal(1, scalr.Server.RequestLog.Count(r => r.Method == "POST" && r.Path.EndsWith("/actions/replace/")));
        Assert.DoesNotContain(fleet.Roles().All, r => r.Name.StartsWith("TTM-Base-"));
    }

    [Fact]
    public void A_failed_image_makes_no_role_and_says_why()
    {
        using var scalr = new LoopbackScalr(withEc2: true);
        lock (scalr.Ec2!.Faults) scalr.Ec2.Faults.FailingImageNames.Add("Sidekiq-*");
        using var fleet = new Fleet(scalr.Connect());
        var service = new SnapshotService(fleet, NullReporter.Instance);
        var servers = fleet.GetServers(new[] { "Rebundle-Staging" }, new[] { "Sidekiq", "DevDebug" }, null).Items;
        var plans = service.Plan(servers.Select(s => new SnapshotRequest { Server = s }).ToList()).Select(p => p.Plan!).ToList();

        var outcomes = service.Execute(plans, wait: true, Timeout, CancellationToken.None);

        var failed = outcomes.Single(o => o.Plan.TargetRole == "Sidekiq-1-7");
        Assert.Equal(TtmErrorCode.ImageFailed, failed.Error!.Code);
        Assert.Null(outcomes.Single(o => o.Plan.TargetRole == "DevDebug-1-7").Error);
        Assert.False(fleet.Roles().Contains("Sidekiq-1-7"));
        Assert.True(fleet.Roles().Contains("DevDebug-1-7"));
        Assert.Equal(1, scalr.Count("POST", "images/")); // only the good image was registered
    }

    [Fact]
    public void A_server_that_is_not_running_is_refused_before_ec2_is_asked()
    {
        using var scalr = new LoopbackScalr(withEc2: true);
        using var backend = scalr.Connect();
        var farmRole = backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Reports");
        var pending = backend.LaunchServer(farmRole);
        scalr.Ec2!.ClearRequests();
        var e = Assert.Throws<TtmException>(() => backend.CreateImage(pending, "Reports-9-9"));
        Assert.Equal(TtmErrorCode.ServerNotRunning, e.Code);
        Assert.Equal(0, scalr.Ec2.CountOf("CreateImage"));
    }

    [Fact]
    public void An_unknown_aws_profile_is_named_at_connect()
    {
        using var scalr = new LoopbackScalr(withEc2: true);
        var options = scalr.Options();
        options.AwsProfileName = "no-such-rebundle-profile";
        var e = Assert.Throws<TtmException>(() => ScalrBackend.Connect(options, scalr.Clock));
        // As on the AWS backend (one EC2 layer), naming Scalr's parameter.
        Assert.Equal(TtmErrorCode.AccessDenied, e.Code);
        Assert.Contains("no-such-rebundle-profile", e.Message);
        Assert.Contains("-AwsProfileName", e.Message);
        Assert.Empty(scalr.Server.RequestLog);
        Assert.Empty(scalr.Ec2!.Requests.Where(r => r.Action != "DescribeImages" && r.Action != "DescribeInstances")); // only the Scalr seed's reads
    }

    [Fact]
    public void The_whole_runbook_from_snapshot_to_recycled_production()
    {
        using var scalr = new LoopbackScalr(withEc2: true);
        using var fleet = new Fleet(scalr.Connect());
        var snapshots = new SnapshotService(fleet, NullReporter.Instance);
        var recycle = new RecycleService(fleet, NullReporter.Instance);
        var assign = new RoleAssignmentService(fleet);

        // Step 4: recycle staging so chef runs on fresh servers.
        foreach (var plan in recycle.Plan(new[] { "Rebundle-Staging" }, null, 3).Items)
            recycle.Execute(plan, Timeout, CancellationToken.None);

        // Step 5: snapshot each staging role (not the base) into its next version.
        var staging = fleet.GetServers(new[] { "Rebundle-Staging" }, null, new[] { ServerStatus.Running }).Items.Where(s => s.Alias != "TTM-Base").ToList();
        var made = snapshots.Execute(snapshots.Plan(staging.Select(s => new SnapshotRequest { Server = s }).ToList()).Select(p => p.Plan!).ToList(), true, Timeout, CancellationToken.None);
        Assert.All(made, o => Assert.Null(o.Error));

        // Step 6: the latest versions into Dev (Reports has no staging farm role, so it stays at 1-6).
        foreach (var latest in fleet.Roles().Latest())
        {
            var dev = fleet.Backend.GetFarmRoles(new[] { "Dev" });
            if (dev.Any(r => r.Alias == latest.BaseName)) assign.Apply(assign.PlanFarmRole("Dev", latest.Name, null));
        }
        Assert.Equal("RailsAppServer-1-7", fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "RailsAppServer").Role);
        Assert.Equal("Reports-1-6", fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Reports").Role);

        // Step 7: production roles take the versioned roles' images.
        foreach (var latest in fleet.Roles().Latest())
            assign.Apply(assign.PlanRoleImage(latest.BaseName, latest.ImageId));
        var newRails = fleet.Roles().Require("RailsAppServer-1-7").ImageId;
        Assert.Equal(newRails, fleet.Roles().Require("RailsAppServer").ImageId);

        // Step 8: recycle Production; its new instances boot from the new image.
        var before = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Production" } }).Select(s => s.Id).ToHashSet();
        var replaced = recycle.Plan(new[] { "Production" }, null, 2).Items.SelectMany(p => recycle.Execute(p, Timeout, CancellationToken.None)).ToList();
        Assert.Equal(7, replaced.Count);
        var rails = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, Aliases = new[] { "RailsAppServer" } })
            .Where(s => s.Status == ServerStatus.Running).ToList();
        Assert.Equal(2, rails.Count);
        Assert.DoesNotContain(rails, s => before.Contains(s.Id));
        var instances = scalr.Server.World.Servers.Where(s => rails.Any(r => r.Id == s.Id)).Select(s => s.CloudServerId).ToList();
        Assert.All(instances, id => Assert.Equal(newRails, scalr.Ec2!.Instances.Single(i => i.Id == id).ImageId));
        Assert.All(rails, s => Assert.Equal(newRails, s.ImageId));
    }

    [Fact]
    public void Servers_read_the_image_their_instance_runs_from_ec2_in_one_call()
    {
        using var scalr = new LoopbackScalr(withEc2: true);
        using var fleet = new Fleet(scalr.Connect());
        var roles = fleet.Roles();
        scalr.Ec2!.ClearRequests();
        var servers = fleet.Backend.GetServers(ServerQuery.All);
        Assert.Equal(19, servers.Count);
        Assert.Equal(1, scalr.Ec2.CountOf("DescribeInstances"));
        Assert.All(servers.Where(s => s.Farm == "Rebundle-Staging"), s => Assert.Equal(roles.Require("TTM-Base").ImageId, s.ImageId));
        Assert.All(servers.Where(s => s.Farm == "Production"), s => Assert.Equal(roles.Require(s.Alias).ImageId, s.ImageId));
    }

    [Fact]
    public void An_image_scalr_cannot_see_names_both_credentials()
    {
        using var scalr = new LoopbackScalr(withEc2: true);
        using var backend = scalr.Connect();
        var template = backend.GetRoles().Single(r => r.Name == "TTM-Base");
        // An AMI the environment's cloud credentials cannot see (here: EC2 does not have it at all).
        var e = Assert.Throws<TtmException>(() => backend.CreateRole("Reports-1-7", template, "ami-0000000000000dead"));
        Assert.Equal("InvalidValue", e.BackendCode);
        Assert.Contains("AWS SDK's default credentials", e.Message);
        Assert.Contains("cloud credentials of environment 5", e.Message);
        Assert.Contains("share the image", e.Message);
        Assert.DoesNotContain(backend.GetRoles(), r => r.Name == "Reports-1-7");
    }

    [Fact]
    public void Connect_refuses_aws_credentials_that_cannot_see_the_environments_images()
    {
        using var scalr = new LoopbackScalr(withEc2: true);
        lock (scalr.Server.World.Gate)
        {
            // The environment's first image is one the operator's account (the loopback EC2) does not have.
            var foreign = scalr.Server.World.AddImage("ForeignAccount", "ami-0000000000000beef");
            scalr.Server.World.Images.Remove(foreign);
            scalr.Server.World.Images.Insert(0, foreign);
        }

        var e = Assert.Throws<TtmException>(() => scalr.Connect());

        Assert.Equal(TtmErrorCode.ConfigInvalid, e.Code);
        Assert.Contains("ami-0000000000000beef", e.Message);
        Assert.Contains("-AwsProfileName", e.Message);
    }

    [Fact]
    public void Connect_without_aws_settings_does_not_ask_ec2()
    {
        using var scalr = new LoopbackScalr(withEc2: true);
        var options = scalr.Options();
        options.AwsRegion = null;
        options.Ec2EndpointUrl = null;
        scalr.Ec2!.ClearRequests();
        using var backend = ScalrBackend.Connect(options, scalr.Clock);
        Assert.Empty(scalr.Ec2.Requests);
        Assert.Single(scalr.Server.RequestLog); // the one probe
    }
}

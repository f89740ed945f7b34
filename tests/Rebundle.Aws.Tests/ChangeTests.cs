using System;
using System.Collections.Generic;
using System.Linq;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Ec2Endpoint;
using Rebundle.Errors;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>Each change of the backend, and the tags it leaves exactly as docs/aws.md documents them.</summary>
public class ChangeTests
{
    private static Dictionary<string, string> TagsOf(TagSet tags) => tags.All.ToDictionary(t => t.Key, t => t.Value);

    [Fact]
    public void CreateImage_snapshots_the_instance_named_and_tagged_for_the_new_role()
    {
        using var fleet = new AwsFleet();
        var server = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Rebundle-Staging" }, Aliases = new[] { "RailsAppServer" } }).Single();

        var image = fleet.Backend.CreateImage(server, "RailsAppServer-1-7");

        var made = fleet.Ec2.Images.Single(i => i.Id == image.Id);
        Assert.Equal("RailsAppServer-1-7", made.Name);
        Assert.Equal(server.Id, made.SourceInstanceId);
        Assert.Equal(new Dictionary<string, string> { ["ttm:role"] = "RailsAppServer-1-7", ["ttm:source-instance"] = server.Id }, TagsOf(made.Tags));
        Assert.Equal(ImageStatus.Pending, image.Status);
    }

    [Theory]
    [InlineData(false, "false")]
    [InlineData(true, "true")]
    public void CreateImage_reboots_the_server_unless_told_not_to(bool noReboot, string sent)
    {
        using var fleet = new AwsFleet();
        var server = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Rebundle-Staging" }, Aliases = new[] { "DevDebug" } }).Single();

        fleet.Backend.CreateImage(server, "DevDebug-1-7", noReboot);

        var request = Assert.Single(fleet.Ec2.Requests, r => r.Action == "CreateImage");
        Assert.Equal(sent, request.Parameters.TryGetValue("NoReboot", out var value) ? value : "false");
    }

    [Fact]
    public void CreateImage_carries_on_with_the_image_an_earlier_attempt_made_from_the_same_server()
    {
        using var fleet = new AwsFleet();
        var server = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Rebundle-Staging" }, Aliases = new[] { "Sidekiq" } }).Single();
        var first = fleet.Backend.CreateImage(server, "Sidekiq-1-7");

        var again = fleet.Backend.CreateImage(server, "Sidekiq-1-7");

        Assert.Equal(first.Id, again.Id);
        Assert.Single(fleet.Ec2.Images, i => i.Name == "Sidekiq-1-7");
    }

    [Fact]
    public void CreateImage_refuses_a_name_another_servers_image_holds()
    {
        using var fleet = new AwsFleet();
        var servers = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Rebundle-Staging" } });
        fleet.Backend.CreateImage(servers[0], "Taken-1-0");

        var error = Assert.Throws<TtmException>(() => fleet.Backend.CreateImage(servers[1], "Taken-1-0"));

        Assert.Equal("InvalidAMIName.Duplicate", error.BackendCode);
        Assert.Contains("Deregister", error.Message);
    }

    [Fact]
    public void An_image_for_replace_image_is_tagged_with_the_role_it_replaces()
    {
        using var fleet = new AwsFleet();
        var server = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Rebundle-Staging" }, Aliases = new[] { "TTM-Base" } }).Single();

        var image = fleet.Backend.CreateImage(server, "TTM-Base-20260101-120000");

        Assert.Equal("TTM-Base", fleet.Ec2.Images.Single(i => i.Id == image.Id).Tags["ttm:role"]);
    }

    [Fact]
    public void CreateRole_copies_the_source_roles_launch_settings_with_the_new_image()
    {
        using var fleet = new AwsFleet();
        var source = fleet.Ec2.LaunchTemplateNamed("role/TTM-Base")!;
        var richer = new Dictionary<string, string>(source.Versions[0].Data)
        {
            ["SecurityGroupId.2"] = "sg-0a1b2c3d4e5f60002",
            ["IamInstanceProfile.Name"] = "ttm-chef",
            ["BlockDeviceMapping.1.DeviceName"] = "/dev/sda1",
            ["BlockDeviceMapping.1.Ebs.VolumeSize"] = "40",
            ["BlockDeviceMapping.1.Ebs.VolumeType"] = "gp3",
            ["UserData"] = Convert.ToBase64String("#!/bin/sh\nchef-client\n"u8.ToArray()),
        };
        source.Versions.Add(new Ec2TemplateVersion { Number = 2, Data = richer });
        source.DefaultVersion = 2;
        var image = fleet.Ec2.AddImage("RailsAppServer-1-7");
        var baseRole = fleet.Backend.GetRoles().Single(r => r.Name == "TTM-Base");

        var role = fleet.Backend.CreateRole("RailsAppServer-1-7", baseRole, image.Id);

        Assert.Equal("RailsAppServer-1-7", role.Name);
        Assert.Equal(image.Id, role.ImageId);
        var created = fleet.Ec2.LaunchTemplateNamed("role/RailsAppServer-1-7")!;
        var expected = new Dictionary<string, string>(richer) { ["ImageId"] = image.Id };
        Assert.Equal(expected.OrderBy(p => p.Key), created.Versions.Single().Data.OrderBy(p => p.Key));
        Assert.Equal(new Dictionary<string, string> { ["ttm:kind"] = "role", ["ttm:role"] = "RailsAppServer-1-7" }, TagsOf(created.Tags));
        Assert.Contains(fleet.Backend.GetRoles(), r => r.Name == "RailsAppServer-1-7" && r.ImageId == image.Id);
    }

    [Fact]
    public void CreateRole_tags_the_template_with_the_rebundle_run_that_made_it_and_reads_it_back()
    {
        using var fleet = new AwsFleet();
        var image = fleet.Ec2.AddImage("Sidekiq-1-7");
        var sidekiq = fleet.Backend.GetRoles().Single(r => r.Name == "Sidekiq");

        var role = fleet.Backend.CreateRole("Sidekiq-1-7", sidekiq, image.Id, "20260401-090000-0badcafe");

        Assert.Equal("20260401-090000-0badcafe", role.CreatedByRun);
        Assert.Equal("20260401-090000-0badcafe", TagsOf(fleet.Ec2.LaunchTemplateNamed("role/Sidekiq-1-7")!.Tags)["ttm:run-id"]);
        var roles = fleet.Backend.GetRoles();
        Assert.Equal("20260401-090000-0badcafe", roles.Single(r => r.Name == "Sidekiq-1-7").CreatedByRun);
        Assert.Null(roles.Single(r => r.Name == "Sidekiq-1-6").CreatedByRun);
    }

    [Fact]
    public void CreateRole_never_overwrites_an_existing_role()
    {
        using var fleet = new AwsFleet();
        var roles = fleet.Backend.GetRoles();
        var before = fleet.Ec2.LaunchTemplateNamed("role/Sidekiq-1-6")!.Versions.Single().Data["ImageId"];

        var error = Assert.Throws<TtmException>(() => fleet.Backend.CreateRole("Sidekiq-1-6", roles.Single(r => r.Name == "Sidekiq"), fleet.Ec2.Images[0].Id));

        Assert.Equal(TtmErrorCode.RoleAlreadyExists, error.Code);
        Assert.Equal("InvalidLaunchTemplateName.AlreadyExistsException", error.BackendCode);
        Assert.Equal(before, fleet.Ec2.LaunchTemplateNamed("role/Sidekiq-1-6")!.Versions.Single().Data["ImageId"]);
    }

    [Fact]
    public void SetRoleImage_adds_a_default_version_and_keeps_the_old_one_for_rollback()
    {
        using var fleet = new AwsFleet();
        var role = fleet.Backend.GetRoles().Single(r => r.Name == "NodeAppServer");
        var image = fleet.Ec2.AddImage("NodeAppServer-1-7");

        var changed = fleet.Backend.SetRoleImage(role, image.Id);

        Assert.Equal(image.Id, changed.ImageId);
        var template = fleet.Ec2.LaunchTemplateNamed("role/NodeAppServer")!;
        Assert.Equal(2, template.Versions.Count);
        Assert.Equal(2, template.DefaultVersion);
        Assert.Equal(role.ImageId, template.Versions[0].Data["ImageId"]);
        Assert.Equal(image.Id, template.Versions[1].Data["ImageId"]);
        Assert.Equal(template.Versions[0].Data["KeyName"], template.Versions[1].Data["KeyName"]); // the rest of the settings carry over
        Assert.Equal(image.Id, fleet.Backend.GetRoles().Single(r => r.Name == "NodeAppServer").ImageId);
    }

    [Fact]
    public void SetRoleImage_of_a_role_without_a_template_is_RoleNotFound_and_changes_nothing()
    {
        using var fleet = new AwsFleet();
        var ghost = Role.Named("Ghost", fleet.Ec2.Images[0].Id);

        var error = Assert.Throws<TtmException>(() => fleet.Backend.SetRoleImage(ghost, fleet.Ec2.Images[1].Id));

        Assert.Equal(TtmErrorCode.RoleNotFound, error.Code);
        Assert.Empty(fleet.Mutations);
    }

    [Fact]
    public void SetFarmRoleRole_rewrites_the_ttm_role_tag_only()
    {
        using var fleet = new AwsFleet();
        var farmRole = fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "RailsAppServer");

        var changed = fleet.Backend.SetFarmRoleRole(farmRole, "RailsAppServer-1-6");

        Assert.Equal("RailsAppServer-1-6", changed.Role);
        Assert.Equal(new Dictionary<string, string>
        {
            ["ttm:kind"] = "farm-role", ["ttm:farm"] = "Dev", ["ttm:alias"] = "RailsAppServer", ["ttm:role"] = "RailsAppServer-1-6", ["ttm:count"] = "1",
        }, TagsOf(fleet.Ec2.LaunchTemplateNamed("farm/Dev/RailsAppServer")!.Tags));
        Assert.Equal("RailsAppServer-1-6", fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "RailsAppServer").Role);
        Assert.Equal("CreateTags", Assert.Single(fleet.Mutations).Action);
    }

    [Fact]
    public void SetFarmRoleRole_refuses_a_role_that_does_not_exist_and_changes_nothing()
    {
        using var fleet = new AwsFleet();
        var farmRole = fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "RailsAppServer");

        var error = Assert.Throws<TtmException>(() => fleet.Backend.SetFarmRoleRole(farmRole, "RailsAppServer-9-9"));

        Assert.Equal(TtmErrorCode.RoleNotFound, error.Code);
        Assert.Empty(fleet.Mutations);
        Assert.Equal("RailsAppServer", fleet.Ec2.LaunchTemplateNamed("farm/Dev/RailsAppServer")!.Tags["ttm:role"]);
    }

    [Fact]
    public void LaunchServer_runs_the_farm_roles_role_template_with_the_farm_role_tags_and_next_free_index()
    {
        using var fleet = new AwsFleet();
        var farmRole = fleet.Backend.GetFarmRoles(new[] { "Production" }).Single(r => r.Alias == "RailsAppServer");

        var server = fleet.Backend.LaunchServer(farmRole);

        Assert.Equal("RailsAppServer.3", server.Name);
        Assert.Equal(ServerStatus.Pending, server.Status);
        Assert.Equal(new Dictionary<string, string>
        {
            ["Name"] = "Production/RailsAppServer.3", ["ttm:farm"] = "Production", ["ttm:alias"] = "RailsAppServer", ["ttm:role"] = "RailsAppServer", ["ttm:index"] = "3",
        }, fleet.InstanceTags(server.Id));
        var instance = fleet.Ec2.Instances.Single(i => i.Id == server.Id);
        var roleTemplate = fleet.Ec2.LaunchTemplateNamed("role/RailsAppServer")!;
        Assert.Equal(roleTemplate.Id, instance.LaunchTemplateId);
        Assert.Equal(roleTemplate.Versions.Single().Data["ImageId"], instance.ImageId);
        var run = fleet.Mutations.Single();
        Assert.Equal("RunInstances", run.Action);
        Assert.Equal("$Default", run.Parameters["LaunchTemplate.Version"]);
        Assert.True(run.Parameters.ContainsKey("ClientToken"));
    }

    [Fact]
    public void LaunchServer_reuses_the_lowest_index_a_terminated_server_left_free()
    {
        using var fleet = new AwsFleet();
        var farmRole = fleet.Backend.GetFarmRoles(new[] { "Production" }).Single(r => r.Alias == "RailsAppServer");
        var first = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, Aliases = new[] { "RailsAppServer" } }).Single(s => s.Index == 1);
        fleet.Backend.TerminateServer(first);
        fleet.Clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal("RailsAppServer.1", fleet.Backend.LaunchServer(farmRole).Name);
    }

    [Fact]
    public void LaunchServer_from_a_role_without_a_template_is_RoleNotFound()
    {
        using var fleet = new AwsFleet();
        // The farm role runs a role whose template is gone (a launch uses the role the farm role runs now).
        fleet.Ec2.SetTag(fleet.Ec2.LaunchTemplateNamed("farm/Dev/Sidekiq")!.Id, "ttm:role", "Gone");
        var farmRole = fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Sidekiq");

        var error = Assert.Throws<TtmException>(() => fleet.Backend.LaunchServer(farmRole));

        Assert.Equal(TtmErrorCode.RoleNotFound, error.Code);
        Assert.Equal("InvalidLaunchTemplateName.NotFoundException", error.BackendCode);
    }

    [Fact]
    public void TerminateServer_terminates_the_instance()
    {
        using var fleet = new AwsFleet();
        var server = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Dev" }, Aliases = new[] { "DevDebug" } }).Single();

        fleet.Backend.TerminateServer(server);

        Assert.Equal("shutting-down", fleet.Ec2.StateOf(fleet.Ec2.Instances.Single(i => i.Id == server.Id)));
        Assert.Equal(server.Id, fleet.Mutations.Single().Parameters["InstanceId.1"]);
    }

    [Fact]
    public void Terminating_an_unknown_instance_is_ServerNotFound()
    {
        using var fleet = new AwsFleet();

        var error = Assert.Throws<TtmException>(() => fleet.Backend.TerminateServer(new Server { Id = "i-00000000000000bad", Alias = "Ghost", Index = 1, Farm = "Dev" }));

        Assert.Equal(TtmErrorCode.ServerNotFound, error.Code);
        Assert.Equal("InvalidInstanceID.NotFound", error.BackendCode);
        Assert.Equal("Ghost.1", error.Target);
    }
}

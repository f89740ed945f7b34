using System;
using System.Collections.Generic;
using System.Linq;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Ec2Endpoint;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>The runbook's fleet read back through the mapping of docs/aws.md, in batched calls.</summary>
public class ReadTests
{
    [Fact]
    public void Farms_are_the_distinct_ttm_farm_values_of_farm_role_templates()
    {
        using var fleet = new AwsFleet();

        var farms = fleet.Backend.GetFarms();

        Assert.Equal(new[] { "Dev", "Production", "Rebundle-Staging" }, farms.Select(f => f.Name));
        Assert.All(farms, f => Assert.Equal(6, f.FarmRoleCount));
        Assert.Equal(1, fleet.Calls("DescribeLaunchTemplates"));
    }

    [Fact]
    public void Farm_roles_come_from_their_templates_tags()
    {
        using var fleet = new AwsFleet();

        var staging = fleet.Backend.GetFarmRoles(new[] { "Rebundle-Staging" });
        var production = fleet.Backend.GetFarmRoles(new[] { "Production" });

        Assert.Equal(new[] { "TTM-Base", "RailsAppServer", "NodeAppServer", "Sidekiq", "DevDebug", "SystemWatcher" }, staging.Select(r => r.Alias));
        Assert.All(staging, r => Assert.Equal("TTM-Base", r.Role));
        var rails = production.Single(r => r.Alias == "RailsAppServer");
        Assert.Equal("RailsAppServer", rails.Role);
        Assert.Equal(2, rails.DesiredCount);
        Assert.Equal("farm/Production/RailsAppServer", rails.Id);
        Assert.Equal(12, fleet.Backend.GetFarmRoles(new[] { "Dev", "Production" }).Count);
    }

    [Fact]
    public void Roles_take_the_image_of_their_templates_default_version_in_two_calls()
    {
        using var fleet = new AwsFleet();

        var roles = fleet.Backend.GetRoles();

        Assert.Equal(15, roles.Count);
        var rails = roles.Single(r => r.Name == "RailsAppServer");
        var railsVersion = roles.Single(r => r.Name == "RailsAppServer-1-6");
        Assert.Equal("RailsAppServer", railsVersion.BaseName);
        Assert.Equal("1-6", railsVersion.Version!.ToString());
        Assert.Equal(rails.ImageId, railsVersion.ImageId);
        Assert.Equal(fleet.Ec2.Images.Single(i => i.Name == "RailsAppServer-1-6").Id, rails.ImageId);
        Assert.Equal("role/RailsAppServer", rails.Id);
        Assert.Equal(1, fleet.Calls("DescribeLaunchTemplates"));
        Assert.Equal(1, fleet.Calls("DescribeLaunchTemplateVersions"));
    }

    [Fact]
    public void A_role_reads_the_image_of_the_default_version_not_the_latest()
    {
        using var fleet = new AwsFleet();
        var template = fleet.Ec2.LaunchTemplateNamed("role/Sidekiq")!;
        var newer = fleet.Ec2.AddImage("Sidekiq-unreleased");
        template.Versions.Add(new Ec2TemplateVersion { Number = 2, Data = RunbookSeed.RoleData(newer.Id) });

        var sidekiq = fleet.Backend.GetRoles().Single(r => r.Name == "Sidekiq");

        Assert.NotEqual(newer.Id, sidekiq.ImageId);
        Assert.Equal(template.Versions[0].Data["ImageId"], sidekiq.ImageId);
    }

    [Fact]
    public void Servers_are_instances_named_alias_dot_index_with_their_farm_role()
    {
        using var fleet = new AwsFleet();

        var servers = fleet.Backend.GetServers(ServerQuery.All);

        Assert.Equal(19, servers.Count);
        var production = servers.Where(s => s.Farm == "Production" && s.Alias == "RailsAppServer").OrderBy(s => s.Index).ToList();
        Assert.Equal(new[] { "RailsAppServer.1", "RailsAppServer.2" }, production.Select(s => s.Name));
        Assert.All(servers, s => Assert.Equal(ServerStatus.Running, s.Status));
        Assert.All(servers, s => Assert.StartsWith("i-", s.Id));
        Assert.All(servers, s => Assert.Equal($"farm/{s.Farm}/{s.Alias}", s.FarmRoleId));
        Assert.All(servers, s => Assert.False(string.IsNullOrEmpty(s.PrivateIp)));
        Assert.Equal(1, fleet.Calls("DescribeInstances"));
    }

    [Fact]
    public void Server_filters_are_sent_to_EC2_as_tag_filters()
    {
        using var fleet = new AwsFleet();

        var servers = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Dev" }, Aliases = new[] { "Sidekiq", "Reports" } });

        Assert.Equal(new[] { "Reports.1", "Sidekiq.1" }, servers.Select(s => s.Name).OrderBy(n => n));
        var request = Assert.Single(fleet.Ec2.Requests, r => r.Action == "DescribeInstances");
        Assert.Equal("tag:ttm:farm", request.Parameters["Filter.1.Name"]);
        Assert.Equal("Dev", request.Parameters["Filter.1.Value.1"]);
        Assert.Equal("tag:ttm:alias", request.Parameters["Filter.2.Name"]);
    }

    [Fact]
    public void Servers_by_id_are_read_in_one_call_and_unknown_ids_are_left_out()
    {
        using var fleet = new AwsFleet();
        var ids = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Production" } }).Select(s => s.Id).ToList();
        fleet.Ec2.ClearRequests();

        var servers = fleet.Backend.GetServers(new ServerQuery { Ids = ids.Concat(new[] { "i-0000000000000dead" }).ToList(), IncludeTerminated = true });

        Assert.Equal(ids.OrderBy(i => i), servers.Select(s => s.Id).OrderBy(i => i));
        Assert.Equal(1, fleet.Calls("DescribeInstances"));
    }

    [Fact]
    public void A_thousand_servers_are_listed_in_a_handful_of_pages()
    {
        using var fleet = new AwsFleet(seed: false, configure: s => s.MaxPageSize = 250);
        var image = fleet.Ec2.AddImage("Big");
        for (var i = 1; i <= 1000; i++)
            fleet.Ec2.AddInstance(image.Id, RunbookSeed.ServerTags("Big", "Worker", "Worker", i));

        var servers = fleet.Backend.GetServers(ServerQuery.All);

        Assert.Equal(1000, servers.Count);
        Assert.Equal(Enumerable.Range(1, 1000), servers.Select(s => s.Index).OrderBy(i => i));
        Assert.Equal(4, fleet.Calls("DescribeInstances"));
        Assert.Equal(3, fleet.Ec2.Requests.Count(r => r.Action == "DescribeInstances" && r.Parameters.ContainsKey("NextToken")));
        Assert.Equal(4, fleet.Calls("DescribeInstanceStatus")); // the status checks of 1,000 running servers, 250 a page
    }

    [Fact]
    public void Roles_over_several_template_pages_are_all_read()
    {
        using var fleet = new AwsFleet(configure: s => s.MaxPageSize = 4);

        var roles = fleet.Backend.GetRoles();

        Assert.Equal(15, roles.Count);
        Assert.Equal(4, fleet.Calls("DescribeLaunchTemplates")); // 15 templates, 4 a page
        Assert.True(fleet.Calls("DescribeLaunchTemplateVersions") >= 2);
    }

    [Fact]
    public void Instances_without_the_farm_tags_are_not_servers()
    {
        using var fleet = new AwsFleet();
        fleet.Ec2.AddInstance(fleet.Ec2.Images[0].Id, RunbookSeed.Tags(("Name", "bastion")));

        Assert.Equal(19, fleet.Backend.GetServers(ServerQuery.All).Count);
    }

    [Fact]
    public void Images_are_read_by_id_and_unknown_ids_left_out()
    {
        using var fleet = new AwsFleet();
        var known = fleet.Ec2.Images.Take(2).Select(i => i.Id).ToList();

        var images = fleet.Backend.GetImages(known.Concat(new[] { "ami-00000000000000bad" }).ToList());

        Assert.Equal(known, images.Select(i => i.Id));
        Assert.All(images, i => Assert.Equal(ImageStatus.Available, i.Status));
        Assert.Equal(1, fleet.Calls("DescribeImages"));
    }

    [Fact]
    public void Server_and_image_states_map_to_the_domain_statuses()
    {
        using var fleet = new AwsFleet(configure: s => { s.BootTime = TimeSpan.FromSeconds(30); s.ShutdownTime = TimeSpan.FromSeconds(10); s.ImageTime = TimeSpan.FromSeconds(60); });
        var farmRole = fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Sidekiq");
        fleet.Ec2.Faults.FailLaunches = 1;
        var failing = fleet.Backend.LaunchServer(farmRole);
        var booting = fleet.Backend.LaunchServer(farmRole);
        var old = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Dev" }, Aliases = new[] { "Sidekiq" } }).Single(s => s.Index == 1);
        fleet.Backend.TerminateServer(old);
        fleet.Ec2.Faults.FailingImageNames.Add("broken*");
        var source = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Dev" }, Aliases = new[] { "Reports" } }).Single();
        var good = fleet.Backend.CreateImage(source, "good-image");
        var bad = fleet.Backend.CreateImage(source, "broken-image");

        ServerStatus StatusOf(Server s) => fleet.Backend.GetServers(new ServerQuery { Ids = new[] { s.Id }, IncludeTerminated = true }).Single().Status;
        Assert.Equal(ServerStatus.Pending, StatusOf(booting));
        Assert.Equal(ServerStatus.Terminating, StatusOf(old));
        Assert.Equal(ImageStatus.Pending, fleet.Backend.GetImages(new[] { good.Id }).Single().Status);

        fleet.Clock.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(ServerStatus.Running, StatusOf(booting));
        Assert.Equal(ServerStatus.Failed, StatusOf(failing));
        Assert.Equal(ServerStatus.Terminated, StatusOf(old));
        Assert.Equal(ImageStatus.Available, fleet.Backend.GetImages(new[] { good.Id }).Single().Status);
        var failed = fleet.Backend.GetImages(new[] { bad.Id }).Single();
        Assert.Equal(ImageStatus.Failed, failed.Status);
        Assert.Contains("failed", failed.StatusReason);
        Assert.DoesNotContain(fleet.Backend.GetServers(ServerQuery.All), s => s.Id == old.Id);
    }

    [Fact]
    public void A_running_server_is_Pending_until_its_status_checks_pass()
    {
        using var fleet = new AwsFleet(configure: s => { s.BootTime = TimeSpan.FromSeconds(30); s.StatusCheckTime = TimeSpan.FromMinutes(2); });
        var farmRole = fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Sidekiq");
        var server = fleet.Backend.LaunchServer(farmRole);
        ServerStatus StatusOf() => fleet.Backend.GetServers(new ServerQuery { Ids = new[] { server.Id } }).Single().Status;

        fleet.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal("running", fleet.Ec2.StateOf(fleet.Ec2.Instances.Single(i => i.Id == server.Id)));
        Assert.Equal(ServerStatus.Pending, StatusOf());
        Assert.Contains(fleet.Backend.GetServers(new ServerQuery { Statuses = new[] { ServerStatus.Pending } }), s => s.Id == server.Id);

        fleet.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(ServerStatus.Running, StatusOf());
    }

    [Fact]
    public void A_server_whose_status_checks_fail_is_Failed()
    {
        using var fleet = new AwsFleet();
        fleet.Ec2.Faults.ImpairLaunches = 1;
        var server = fleet.Backend.LaunchServer(fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Reports"));
        fleet.Clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(ServerStatus.Failed, fleet.Backend.GetServers(new ServerQuery { Ids = new[] { server.Id } }).Single().Status);
        Assert.DoesNotContain(fleet.Backend.GetServers(new ServerQuery { Statuses = new[] { ServerStatus.Running } }), s => s.Id == server.Id);
    }

    [Fact]
    public void An_endpoint_without_status_checks_is_trusted_on_the_instance_state_and_not_asked_again()
    {
        using var fleet = new AwsFleet(configure: s => s.ReportsStatusChecks = false);

        Assert.All(fleet.Backend.GetServers(ServerQuery.All), s => Assert.Equal(ServerStatus.Running, s.Status));
        Assert.Equal(19, fleet.Backend.GetServers(ServerQuery.All).Count);

        Assert.Equal(1, fleet.Calls("DescribeInstanceStatus"));
        Assert.Equal("InvalidAction", fleet.Ec2.Requests.Single(r => r.Action == "DescribeInstanceStatus").ErrorCode);
    }
}

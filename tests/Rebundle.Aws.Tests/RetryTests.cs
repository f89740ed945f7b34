using System.Linq;
using Rebundle.Backends;
using Rebundle.Errors;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>Throttling answered by the SDK's standard retry mode, as Connect configures it.</summary>
public class RetryTests
{
    [Fact]
    public void Throttled_requests_are_retried_until_EC2_answers()
    {
        using var fleet = new AwsFleet();
        fleet.Ec2.Faults.ThrottleNext = 3;

        var servers = fleet.Backend.GetServers(ServerQuery.All);

        Assert.Equal(19, servers.Count);
        Assert.Equal(new[] { 503, 503, 503, 200 }, fleet.Ec2.Requests.Where(r => r.Action == "DescribeInstances").Select(r => r.Status));
        Assert.Equal(4, fleet.Ec2.Requests.Count(r => r.Action == "DescribeInstances"));
    }

    [Fact]
    public void A_throttled_change_is_retried_and_done_once()
    {
        using var fleet = new AwsFleet();
        var farmRole = fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "NodeAppServer");
        fleet.Ec2.ClearRequests();
        fleet.Ec2.Faults.ThrottleNext = 2;
        fleet.Ec2.Faults.ThrottleAction = "RunInstances";

        var server = fleet.Backend.LaunchServer(farmRole);

        Assert.Equal(3, fleet.Calls("RunInstances"));
        Assert.Single(fleet.Ec2.Instances, i => i.Tags["ttm:farm"] == "Dev" && i.Tags["ttm:alias"] == "NodeAppServer" && i.Id != server.Id);
        var tokens = fleet.Ec2.Requests.Where(r => r.Action == "RunInstances").Select(r => r.Parameters["ClientToken"]).Distinct();
        Assert.Single(tokens); // a retried launch is the same launch
    }

    [Fact]
    public void Throttling_that_outlasts_the_retries_is_a_clear_error_carrying_the_AWS_code()
    {
        using var fleet = new AwsFleet(options: new AwsConnectionOptions { MaxRetries = 2 });
        fleet.Ec2.Faults.ThrottleNext = 10;

        var error = Assert.Throws<TtmException>(() => fleet.Backend.GetRoles());

        Assert.Equal(TtmErrorCode.BackendError, error.Code);
        Assert.Equal("RequestLimitExceeded", error.BackendCode);
        Assert.Contains("Wait a minute", error.Message);
        Assert.Equal(3, fleet.Ec2.Requests.Count); // the first try and two retries
    }

    // A lost answer: EC2 did the work, the SDK did not hear and sends the request again.

    [Fact]
    public void A_launch_whose_answer_was_lost_is_retried_into_the_same_instance()
    {
        using var fleet = new AwsFleet();
        var farmRole = fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Sidekiq");
        var before = fleet.Ec2.Instances.Count;
        fleet.Ec2.Faults.LoseResponses = 1;
        fleet.Ec2.Faults.LoseAction = "RunInstances";

        var server = fleet.Backend.LaunchServer(farmRole);

        Assert.Equal(2, fleet.Calls("RunInstances"));
        Assert.Equal(before + 1, fleet.Ec2.Instances.Count);
        Assert.Equal(fleet.Ec2.Instances.Last().Id, server.Id);
    }

    [Fact]
    public void An_image_swap_whose_answer_was_lost_adds_one_version()
    {
        using var fleet = new AwsFleet();
        var role = fleet.Backend.GetRoles().Single(r => r.Name == "DevDebug");
        var image = fleet.Ec2.AddImage("DevDebug-1-7");
        fleet.Ec2.Faults.LoseResponses = 1;
        fleet.Ec2.Faults.LoseAction = "CreateLaunchTemplateVersion";

        fleet.Backend.SetRoleImage(role, image.Id);

        Assert.Equal(2, fleet.Calls("CreateLaunchTemplateVersion"));
        var template = fleet.Ec2.LaunchTemplateNamed("role/DevDebug")!;
        Assert.Equal(2, template.Versions.Count);
        Assert.Equal(2, template.DefaultVersion);
    }

    [Fact]
    public void A_new_role_whose_answer_was_lost_is_created_once()
    {
        using var fleet = new AwsFleet();
        var source = fleet.Backend.GetRoles().Single(r => r.Name == "Reports");
        fleet.Ec2.Faults.LoseResponses = 1;
        fleet.Ec2.Faults.LoseAction = "CreateLaunchTemplate";

        var role = fleet.Backend.CreateRole("Reports-1-7", source, source.ImageId);

        Assert.Equal(2, fleet.Calls("CreateLaunchTemplate"));
        Assert.Equal("Reports-1-7", role.Name);
        Assert.Single(fleet.Ec2.LaunchTemplates, t => t.Name == "role/Reports-1-7");
    }

    [Fact]
    public void A_snapshot_whose_answer_was_lost_carries_on_with_the_image_made()
    {
        using var fleet = new AwsFleet();
        var server = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Rebundle-Staging" }, Aliases = new[] { "DevDebug" } }).Single();
        fleet.Ec2.Faults.LoseResponses = 1;
        fleet.Ec2.Faults.LoseAction = "CreateImage";

        var image = fleet.Backend.CreateImage(server, "DevDebug-1-7");

        Assert.Equal(fleet.Ec2.Images.Single(i => i.Name == "DevDebug-1-7").Id, image.Id);
    }
}

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
}

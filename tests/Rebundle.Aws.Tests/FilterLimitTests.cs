using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using Amazon.EC2;
using Amazon.EC2.Model;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Ec2Endpoint;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>
/// EC2 takes at most 200 filter values in one call, all filters together (FilterLimitExceeded
/// otherwise). The endpoint enforces it, so a read over a big fleet proves it stays within it.
/// </summary>
public class FilterLimitTests
{
    private static readonly Regex FilterValue = new(@"^Filter\.\d+\.Value\.\d+$");

    private static int FilterValues(LoggedRequest request) => request.Parameters.Keys.Count(k => FilterValue.IsMatch(k));

    /// <summary>A fleet of <paramref name="count"/> running Worker servers in farm Big.</summary>
    private static AwsFleet BigFleet(int count)
    {
        var fleet = new AwsFleet(seed: false);
        var image = fleet.Ec2.AddImage("Big");
        for (var i = 1; i <= count; i++)
            fleet.Ec2.AddInstance(image.Id, RunbookSeed.ServerTags("Big", "Worker", "Worker", i));
        return fleet;
    }

    [Fact]
    public void The_endpoint_refuses_a_call_with_more_than_200_filter_values_in_all_as_EC2_does()
    {
        using var fleet = new AwsFleet();
        using var ec2 = new AmazonEC2Client(new AmazonEC2Config { ServiceURL = fleet.Endpoint.Url.ToString(), AuthenticationRegion = "us-east-1" });
        var ids = Enumerable.Range(1, 199).Select(i => $"i-{i:x17}").ToList();
        DescribeInstancesRequest Request(int states) => new()
        {
            Filters = new List<Filter>
            {
                new() { Name = "instance-id", Values = ids },
                new() { Name = "instance-state-name", Values = new[] { "pending", "running" }.Take(states).ToList() },
            },
        };

        ec2.DescribeInstancesAsync(Request(1)).GetAwaiter().GetResult(); // 200 values: accepted
        var error = Assert.Throws<AmazonEC2Exception>(() => ec2.DescribeInstancesAsync(Request(2)).GetAwaiter().GetResult());

        Assert.Equal("FilterLimitExceeded", error.ErrorCode);
        Assert.Equal(400, (int)error.StatusCode);
    }

    [Fact]
    public void Servers_read_by_id_from_a_fleet_of_450_stay_within_the_limit_in_every_call_and_are_all_found()
    {
        using var fleet = BigFleet(450);
        var ids = fleet.Ec2.Instances.Select(i => i.Id).ToList();

        // The state filter (live states) and the farm tag-key filter ride along with the ids.
        var servers = fleet.Backend.GetServers(new ServerQuery { Ids = ids });

        Assert.Equal(ids.OrderBy(i => i), servers.Select(s => s.Id).OrderBy(i => i));
        Assert.Equal(Enumerable.Range(1, 450), servers.Select(s => s.Index).OrderBy(i => i));
        Assert.All(servers, s => Assert.Equal(ServerStatus.Running, s.Status));
        var reads = fleet.Ec2.Requests.Where(r => r.Action == "DescribeInstances").ToList();
        Assert.Equal(3, reads.Count); // 450 ids beside 5 other values: 195 a call
        Assert.All(fleet.Ec2.Requests, r => Assert.InRange(FilterValues(r), 0, 200));
        Assert.All(fleet.Ec2.Requests, r => Assert.Equal(200, r.Status));
    }

    [Fact]
    public void Servers_by_id_with_farms_aliases_and_statuses_are_found_whole_within_the_limit()
    {
        using var fleet = BigFleet(250);
        var ids = fleet.Ec2.Instances.Select(i => i.Id).ToList();

        var servers = fleet.Backend.GetServers(new ServerQuery
        {
            Ids = ids, Farms = new[] { "Big", "Other" }, Aliases = new[] { "Worker" }, Statuses = new[] { ServerStatus.Running, ServerStatus.Pending },
        });

        Assert.Equal(250, servers.Count);
        Assert.All(fleet.Ec2.Requests, r => Assert.InRange(FilterValues(r), 0, 200));
        Assert.All(fleet.Ec2.Requests, r => Assert.Equal(200, r.Status));
    }

    [Fact]
    public void Farm_roles_and_leases_of_230_farms_are_read_whole_within_the_limit()
    {
        using var fleet = new AwsFleet(seed: false);
        var image = fleet.Ec2.AddImage("Big");
        var farms = Enumerable.Range(1, 230).Select(i => $"Farm{i:000}").ToList();
        foreach (var farm in farms) RunbookSeed.AddFarmRole(fleet.Ec2, farm, "Worker", "Worker", 1);

        var roles = fleet.Backend.GetFarmRoles(farms);

        Assert.Equal(farms, roles.Select(r => r.Farm).OrderBy(f => f));
        using (fleet.Backend.AcquireFarms(farms, "Invoke-TtmRecycle", breakExpired: false))
            Assert.All(fleet.Ec2.LaunchTemplates, t => Assert.NotNull(t.Tags["ttm:lease"]));
        Assert.All(fleet.Ec2.Requests, r => Assert.InRange(FilterValues(r), 0, 200));
        Assert.All(fleet.Ec2.Requests, r => Assert.Equal(200, r.Status));
    }
}

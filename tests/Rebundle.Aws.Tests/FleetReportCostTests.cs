using System.Linq;
using Rebundle.Ec2Endpoint;
using Rebundle.Reporting;
using Xunit;
using Xunit.Abstractions;

namespace Rebundle.Aws.Tests;

/// <summary>The fleet report costs pages of lists on AWS, never a request per farm, role or server.</summary>
public class FleetReportCostTests
{
    private readonly ITestOutputHelper _output;

    public FleetReportCostTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void A_report_of_300_servers_on_281_images_costs_the_same_few_requests_as_the_seeded_19()
    {
        using var fleet = new AwsFleet();
        new FleetReportBuilder(fleet.Fleet).Build();
        var seeded = fleet.Ec2.Requests.Select(r => r.Action).ToList();
        Assert.Equal(new[] { "DescribeLaunchTemplates", "DescribeLaunchTemplates", "DescribeLaunchTemplateVersions", "DescribeInstances", "DescribeInstanceStatus", "DescribeImages" }, seeded);
        // Grow Production's RailsAppServer to 283 servers, each on an image of its own (all drifted).
        for (var i = 3; i <= 283; i++)
            fleet.Ec2.AddInstance(fleet.Ec2.AddImage($"old-{i}").Id, RunbookSeed.ServerTags("Production", "RailsAppServer", "RailsAppServer", i));
        fleet.Ec2.ClearRequests();

        var report = new FleetReportBuilder(fleet.Fleet).Build();

        var grown = fleet.Ec2.Requests.Select(r => r.Action).ToList();
        _output.WriteLine(string.Join(", ", seeded) + "\n" + string.Join(", ", grown));
        Assert.Equal(300, fleet.Ec2.Instances.Count);
        Assert.Equal(281, report.FarmRoles.Single(r => r.Farm == "Production" && r.Alias == "RailsAppServer").Drift);
        // One more DescribeImages only: 290 image ids are two calls of at most 200 filter values.
        Assert.Equal(seeded.Count + 1, grown.Count);
        Assert.Equal(seeded.Count(a => a == "DescribeImages") + 1, grown.Count(a => a == "DescribeImages"));
        Assert.All(fleet.Ec2.Requests, r => Assert.Equal(200, r.Status));
    }
}

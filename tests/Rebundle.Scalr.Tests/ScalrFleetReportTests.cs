using System.Collections.Generic;
using System.Linq;
using Rebundle.Backends;
using Rebundle.Contract;
using Rebundle.Reporting;
using Rebundle.Runbook;

namespace Rebundle.Scalr.Tests;

/// <summary>
/// The fleet report contract (tests/Contract) on ScalrBackend against the loopback Scalr (pages
/// of three), whose servers are instances of a loopback EC2 endpoint: its requests are both logs.
/// </summary>
public sealed class ScalrFleetReportTests : FleetReportContract
{
    private readonly LoopbackScalr _scalr = new(withEc2: true);
    private readonly ScalrBackend _backend;

    public ScalrFleetReportTests()
    {
        // The cost test grows Dev's Sidekiq from 1 to 7 servers; Scalr refuses launches past a farm
        // role's maxInstances (seeded at count + 2), so this fleet's allows them.
        var world = _scalr.Server.World;
        lock (world.Gate)
        {
            var dev = world.Farms.Single(f => f.Name == "Dev").Id;
            world.FarmRoles.Single(r => r.FarmId == dev && r.Alias == "Sidekiq").MaxInstances = 7;
        }
        _backend = _scalr.Connect();
    }

    protected override IFleetBackend Backend => _backend;

    protected override ManualClock Clock => _scalr.Clock;

    protected override IReadOnlyList<string> Requests =>
        _scalr.Server.RequestLog.Select(r => $"{r.Method} {r.Path}?{r.Query} {r.RequestBody}")
            .Concat(_scalr.Ec2!.Requests.Select(r => "EC2 " + r.Action + " " + string.Join("&", r.Parameters
                .Where(p => p.Key != "Action" && p.Key != "Version").OrderBy(p => p.Key, System.StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value))))
            .ToList();

    protected override void ClearRequests()
    {
        _scalr.Server.ClearLog();
        _scalr.Ec2!.ClearRequests();
    }

    /// <summary>The loopback's stalled launch: the next server stays pending for ever.</summary>
    protected override void NextLaunchNeverBoots(string farm, string alias)
    {
        lock (_scalr.Server.World.Gate) _scalr.Server.World.StallingLaunches = 1;
    }

    /// <summary>
    /// Beyond the contract: what one report costs on Scalr. Each list's pages once; Scalr has no
    /// environment-wide list of farm roles or of role images, so one list per farm and one per
    /// role is its floor; the images by one image list, never a filtered read per image.
    /// </summary>
    [Fact]
    public void A_report_on_Scalr_reads_one_farm_role_list_per_farm_one_image_list_per_role_and_no_image_one_by_one()
    {
        ClearRequests();
        new FleetReportBuilder(new Fleet(_backend)).Build();

        var paths = _scalr.Server.RequestLog.Select(r => r.Path.Substring(r.Path.IndexOf("/5/", System.StringComparison.Ordinal) + 3)).ToList();
        // Lists of a farm's farm roles and of a role's images, each read once (its pages).
        Assert.Equal(3, paths.Where(p => System.Text.RegularExpressions.Regex.IsMatch(p, "^farms/[0-9]+/farm-roles/$")).Distinct().Count());
        Assert.Equal(15, paths.Where(p => System.Text.RegularExpressions.Regex.IsMatch(p, "^roles/[0-9]+/images/$")).Distinct().Count());
        Assert.Equal(_scalr.Server.RequestLog.Count, _scalr.Server.RequestLog.Select(r => r.Path + "?" + r.Query).Distinct().Count());
        Assert.DoesNotContain(_scalr.Server.RequestLog, r => r.Query.Contains("cloudImageId"));
        Assert.Equal(new[] { "DescribeInstances" }, _scalr.Ec2!.Requests.Select(r => r.Action));
    }

    public override void Dispose()
    {
        _backend.Dispose();
        _scalr.Dispose();
    }
}

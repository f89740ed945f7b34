using System.Collections.Generic;
using System.Linq;
using Rebundle.Backends;
using Rebundle.Contract;
using Rebundle.Runbook;

namespace Rebundle.Aws.Tests;

/// <summary>The fleet report contract (tests/Contract) on AwsBackend, through the real AWSSDK.EC2 client, against the loopback EC2 endpoint.</summary>
public sealed class AwsFleetReportTests : FleetReportContract
{
    private readonly AwsFleet _aws = new();

    protected override IFleetBackend Backend => _aws.Backend;

    protected override ManualClock Clock => _aws.Clock;

    /// <summary>Each request's action and parameters (a page's NextToken included), without the protocol's Version.</summary>
    protected override IReadOnlyList<string> Requests =>
        _aws.Ec2.Requests.Select(r => r.Action + " " + string.Join("&", r.Parameters
            .Where(p => p.Key != "Action" && p.Key != "Version").OrderBy(p => p.Key, System.StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value))).ToList();

    protected override void ClearRequests() => _aws.Ec2.ClearRequests();

    /// <summary>The endpoint's stalled launch: the next instance stays pending for ever.</summary>
    protected override void NextLaunchNeverBoots(string farm, string alias) => _aws.Ec2.Faults.StallLaunches = 1;

    public override void Dispose() => _aws.Dispose();
}

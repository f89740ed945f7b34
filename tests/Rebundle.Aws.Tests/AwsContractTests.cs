using Rebundle.Backends;
using Rebundle.Contract;
using Rebundle.Runbook;

namespace Rebundle.Aws.Tests;

/// <summary>The backend contract (tests/Contract) on AwsBackend, through the real AWSSDK.EC2 client, against the loopback EC2 endpoint.</summary>
public sealed class AwsContractTests : BackendContract
{
    private readonly AwsFleet _aws = new();

    protected override IFleetBackend Backend => _aws.Backend;

    protected override ManualClock Clock => _aws.Clock;

    /// <summary>EC2 launches the batch in one RunInstances; each server's own tags (its index) are a CreateTags each, which the policy now refuses.</summary>
    protected override void FailTheNextBatchPartWay() => _aws.Ec2.Faults.DeniedActions.Add("CreateTags");

    public override void Dispose() => _aws.Dispose();
}

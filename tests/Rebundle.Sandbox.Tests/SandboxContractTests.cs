using Rebundle.Backends;
using Rebundle.Contract;
using Rebundle.Runbook;

namespace Rebundle.Sandbox.Tests;

/// <summary>The backend contract (tests/Contract) on a fresh Sandbox in a temporary folder.</summary>
public sealed class SandboxContractTests : BackendContract
{
    private readonly TestFleet _sandbox = new();

    protected override IFleetBackend Backend => _sandbox.Backend;

    protected override ManualClock Clock => _sandbox.Clock;

    protected override string BatchesAreAllOrNothing => "a Sandbox batch is one write of its state file: all of it or none";

    public override void Dispose() => _sandbox.Dispose();
}

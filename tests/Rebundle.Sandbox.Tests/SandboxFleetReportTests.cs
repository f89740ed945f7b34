using Rebundle.Backends;
using Rebundle.Contract;
using Rebundle.Runbook;

namespace Rebundle.Sandbox.Tests;

/// <summary>
/// The fleet report contract (tests/Contract) on a fresh Sandbox. The Sandbox has no wire: its
/// requests are the calls through the backend seam (each reads the state file once).
/// </summary>
public sealed class SandboxFleetReportTests : FleetReportContract
{
    private readonly TestFleet _sandbox = new();
    private readonly CountingBackend _counting;

    public SandboxFleetReportTests() => _counting = new CountingBackend(_sandbox.Backend);

    protected override IFleetBackend Backend => _counting;

    protected override ManualClock Clock => _sandbox.Clock;

    protected override IReadOnlyList<string> Requests => _counting.Reads;

    protected override void ClearRequests() => _counting.Reads.Clear();

    protected override void NextLaunchNeverBoots(string farm, string alias) =>
        _sandbox.Backend.Simulate(o => o.NeverBoot.Add(farm + "/" + alias));

    public override void Dispose() => _sandbox.Dispose();
}

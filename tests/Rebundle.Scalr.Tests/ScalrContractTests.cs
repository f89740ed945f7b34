using Rebundle.Backends;
using Rebundle.Contract;
using Rebundle.Runbook;

namespace Rebundle.Scalr.Tests;

/// <summary>
/// The backend contract (tests/Contract) on ScalrBackend, through its real HTTP client, against
/// the loopback Scalr, whose servers are instances of a loopback EC2 endpoint (snapshots are EC2 CreateImage).
/// </summary>
public sealed class ScalrContractTests : BackendContract
{
    private readonly LoopbackScalr _scalr = new(withEc2: true);
    private readonly ScalrBackend _backend;

    public ScalrContractTests() => _backend = _scalr.Connect();

    protected override IFleetBackend Backend => _backend;

    protected override ManualClock Clock => _scalr.Clock;

    /// <summary>Scalr launches one server a call: the first launch of the batch goes through, every one after fails (500).</summary>
    protected override void FailTheNextBatchPartWay()
    {
        var launches = 0;
        _scalr.Server.FailWhen((method, path) => method == "POST" && path.EndsWith("/servers/", System.StringComparison.Ordinal) && ++launches > 1);
    }

    protected override string NoImageLookup =>
        "ScalrBackend does not implement image lookup by name: Scalr registers a snapshot's image only when a role is made from it";

    protected override string NoRoleRetirement =>
        "ScalrBackend does not implement role retirement (docs/scalr.md: DELETE roles/ only takes back a half-made role), so Remove-TtmRoleVersion is not offered on Scalr";

    /// <summary>Scalr's server ids are UUIDs.</summary>
    protected override string MissingServerId => "00000000-0000-4000-8000-00000000dead";

    /// <summary>Scalr's farm-role ids are numbers.</summary>
    protected override string MissingFarmRoleId => "999999";

    public override void Dispose()
    {
        _backend.Dispose();
        _scalr.Dispose();
    }
}

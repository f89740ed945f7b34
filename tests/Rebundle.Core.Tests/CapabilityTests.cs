using Rebundle.Audit;
using Rebundle.Backends;
using Rebundle.Errors;
using Rebundle.Runbook;
using Rebundle.Safety;
using Rebundle.Sandbox;
using Xunit;

namespace Rebundle.Tests;

/// <summary>Optional capabilities are asked for through the audit wrapper, which keeps its promise for each.</summary>
public class CapabilityTests : IDisposable
{
    private readonly TestFleet _t = new();
    private readonly List<AuditEntry> _entries = new();
    private readonly AuditingBackend _audited;

    public CapabilityTests() =>
        _audited = new AuditingBackend(_t.Backend, new ListSink(_entries), "ops@host", new ChangeGuard(farm => farm == "Production"));

    public void Dispose() => _t.Dispose();

    [Fact]
    public void The_wrapper_answers_for_the_Sandbox_what_it_offers_and_nothing_it_does_not()
    {
        var made = _t.Backend.CreateImage(_t.Server("Dev", "Sidekiq"), "Sidekiq-9-9");

        Assert.Equal(made.Id, Assert.Single(_audited.Capability<IImageLookup>()!.FindImagesByName("Sidekiq-9-9")).Id);
        Assert.NotNull(_audited.Capability<ISandboxControl>());
        Assert.NotNull(_audited.Capability<IRoleRetirement>());
        // The Sandbox's addresses are made up: Invoke-TtmRebundle must not try SSH there without -Address.
        Assert.Null(_audited.Capability<ISshReachableServers>());
    }

    [Fact]
    public void The_backend_underneath_is_never_handed_out_so_no_change_can_skip_the_guard_and_the_log()
    {
        Assert.Same(_t.Backend, _t.Backend.Capability<IFleetBackend>());

        Assert.Null(_audited.Capability<IFleetBackend>());
        Assert.Null(_audited.Capability<SandboxBackend>());
    }

    [Fact]
    public void Retirement_asked_for_through_the_wrapper_is_refused_on_a_protected_farms_role_and_nothing_is_logged()
    {
        var role = new Fleet(_t.Backend).Roles().Require("Sidekiq");

        var error = Assert.Throws<TtmException>(() => _audited.Capability<IRoleRetirement>()!.DeleteRole(role, deleteImage: true));

        Assert.Equal(TtmErrorCode.ApprovalRequired, error.Code);
        Assert.Contains(_t.Backend.GetRoles(), r => r.Name == "Sidekiq");
        Assert.Empty(_entries);
    }

    [Fact]
    public void Retirement_asked_for_through_the_wrapper_writes_its_intent_and_outcome()
    {
        var running = _t.Backend.GetFarmRoles().Select(r => r.Role).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var idle = _t.Backend.GetRoles().First(r => !running.Contains(r.Name));

        _audited.Capability<IRoleRetirement>()!.DeleteRole(idle, deleteImage: false);

        Assert.DoesNotContain(_t.Backend.GetRoles(), r => r.Name == idle.Name);
        Assert.Equal(new[] { ("DeleteRole", true), ("DeleteRole", false) }, _entries.Select(e => (e.Action, e.IsIntent)));
        Assert.Equal(AuditOutcome.Done, Assert.Single(AuditCodec.Changes(_entries)).Outcome);
    }
}

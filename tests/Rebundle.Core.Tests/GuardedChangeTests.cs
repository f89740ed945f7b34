using Rebundle.Backends;
using Xunit;
using Rebundle.Audit;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;
using Rebundle.Safety;

namespace Rebundle.Tests;

/// <summary>The one change path: guarded by what a change touches, audited before it happens.</summary>
public class GuardedChangeTests : IDisposable
{
    private readonly TestFleet _t = new();
    private readonly ListSink _sink = new();
    private readonly Fleet _fleet;

    public GuardedChangeTests()
    {
        // As Connect-TtmFleet wires it: the name tables say Production is protected.
        _fleet = Fleet.Audited(_t.Backend, _sink, "ops@host", guard: new ChangeGuard(farm => farm == "Production"));
    }

    public void Dispose() => _t.Dispose();

    [Fact]
    public void A_role_image_change_is_refused_when_a_protected_farm_runs_the_role_and_nothing_changes()
    {
        var role = _fleet.Roles().Require("Sidekiq");

        var error = Assert.Throws<TtmException>(() => _fleet.Backend.SetRoleImage(role, "ami-new"));

        Assert.Equal(TtmErrorCode.ApprovalRequired, error.Code);
        Assert.Contains("protected farm Production", error.Message);
        Assert.Equal(role.ImageId, _t.Fleet.Roles().Require("Sidekiq").ImageId);
        Assert.Empty(_sink.Entries);
    }

    [Fact]
    public void A_snapshot_of_a_protected_farms_server_is_refused_without_approval()
    {
        var server = _t.Server("Production", "Sidekiq");

        var error = Assert.Throws<TtmException>(() => _fleet.Backend.CreateImage(server, "Sidekiq-9-9"));

        Assert.Equal(TtmErrorCode.ApprovalRequired, error.Code);
        Assert.Empty(_t.Backend.Capability<IImageLookup>()!.FindImagesByName("Sidekiq-9-9"));
    }

    [Fact]
    public void The_approver_in_scope_is_asked_once_with_the_protected_farms_and_its_refusal_names_the_switch()
    {
        var approver = new Approver(answer: false);
        using (_fleet.Guard.Use(approver))
        {
            var error = Assert.Throws<TtmException>(() => _fleet.Backend.TerminateServer(_t.Server("Production", "Sidekiq")));
            Assert.EndsWith("Pass -Magic.", error.Message);
        }
        Assert.Equal(new[] { "Production" }, Assert.Single(approver.Asked));
        Assert.Single(_t.Servers("Production", "Sidekiq"));
    }

    [Fact]
    public void Unprotected_farms_need_no_approval_and_the_scope_ends_with_its_command()
    {
        var approver = new Approver(answer: true);
        using (_fleet.Guard.Use(approver))
            _fleet.Backend.SetFarmRoleRole(_fleet.RequireFarmRole("Production", "Sidekiq"), "Sidekiq-1-6");
        _fleet.Backend.SetFarmRoleRole(_fleet.RequireFarmRole("Dev", "Reports"), "Reports-1-6");

        Assert.Equal("Sidekiq-1-6", _t.Fleet.RequireFarmRole("Production", "Sidekiq").Role);
        Assert.Single(approver.Asked);
        Assert.Throws<TtmException>(() => _fleet.Backend.SetFarmRoleRole(_fleet.RequireFarmRole("Production", "Sidekiq"), "Sidekiq-1-5"));
    }

    [Fact]
    public void The_intent_is_written_before_the_change_and_the_outcome_after_with_every_farm_touched()
    {
        var newImage = _fleet.Roles().Require("Sidekiq-1-6").ImageId;
        using (_fleet.Guard.Use(new Approver(answer: true)))
            _fleet.Backend.SetRoleImage(_fleet.Roles().Require("Sidekiq"), newImage);

        Assert.Equal(2, _sink.Entries.Count);
        var (intent, outcome) = (_sink.Entries[0], _sink.Entries[1]);
        Assert.True(intent.IsIntent);
        Assert.Equal(("SetRoleImage", "role/Sidekiq", newImage), (intent.Action, intent.Target, intent.After));
        Assert.Contains("Production", intent.Farms);
        Assert.Equal((false, AuditOutcome.Done, intent.ChangeId), (outcome.IsIntent, outcome.Outcome, outcome.ChangeId));
        var change = Assert.Single(AuditCodec.Changes(AuditCodec.Decode(_sink.Entries.Select(AuditCodec.Encode))));
        Assert.Equal((AuditOutcome.Done, "role/Sidekiq"), (change.Outcome, change.Target));
    }

    [Fact]
    public void When_the_intent_cannot_be_written_the_change_is_not_made()
    {
        var failing = new Fleet(new AuditingBackend(_t.Backend, new FailingSink(), "ops@host"));
        var before = _t.Servers("Dev").Count;

        var error = Assert.Throws<TtmException>(() => failing.Backend.LaunchServer(failing.RequireFarmRole("Dev", "Sidekiq")));

        Assert.Equal(TtmErrorCode.AuditFailed, error.Code);
        Assert.Equal(before, _t.Servers("Dev").Count);
    }

    [Fact]
    public void A_failed_change_is_logged_as_failed()
    {
        var backend = new AuditingBackend(_t.Backend, _sink, "ops@host");
        Assert.Throws<TtmException>(() => backend.SetRoleImage(Role.Named("Nope", "ami-1"), "ami-1"));

        var change = Assert.Single(AuditCodec.Changes(_sink.Entries));
        Assert.Equal(AuditOutcome.Failed, change.Outcome);
        Assert.Contains("Nope", change.Error);
    }

    [Fact]
    public void A_torn_line_is_skipped_with_its_number_and_hides_nothing_after_it()
    {
        using (_fleet.Guard.Use(new Approver(answer: true)))
        {
            _fleet.Backend.SetFarmRoleRole(_fleet.RequireFarmRole("Dev", "Reports"), "Reports-1-6");
            _fleet.Backend.SetFarmRoleRole(_fleet.RequireFarmRole("Dev", "Sidekiq"), "Sidekiq-1-6");
        }
        var lines = _sink.Entries.Select(AuditCodec.Encode).ToList();
        lines[1] = lines[1].Substring(0, lines[1].Length / 2); // the first change's outcome, cut mid-write
        var skipped = new List<int>();

        var changes = AuditCodec.Changes(AuditCodec.Decode(lines, skipped.Add));

        Assert.Equal(new[] { 2 }, skipped);
        Assert.Equal(new[] { ("Dev/Reports", AuditOutcome.Unknown), ("Dev/Sidekiq", AuditOutcome.Done) },
            changes.Select(c => (c.Target, c.Outcome)));
    }

    private sealed class Approver : IChangeApprover
    {
        private readonly bool _answer;

        public Approver(bool answer) => _answer = answer;

        public List<IReadOnlyList<string>> Asked { get; } = new();

        public string HowToApprove => "Pass -Magic.";

        public bool Approve(ChangeIntent intent, IReadOnlyList<string> protectedFarms)
        {
            Asked.Add(protectedFarms);
            return _answer;
        }
    }
}

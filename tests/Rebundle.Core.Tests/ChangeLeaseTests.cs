using Xunit;
using Rebundle.Audit;
using Rebundle.Errors;
using Rebundle.Runbook;
using Rebundle.Safety;

namespace Rebundle.Tests;

/// <summary>Every change holds the lease on the farms it touches, taken by the audit (issue 21).</summary>
public class ChangeLeaseTests : IDisposable
{
    private readonly TestFleet _t = new();
    private readonly ListSink _sink = new();
    private readonly RecordingLeases _leases = new();
    private readonly Fleet _fleet;

    public ChangeLeaseTests()
    {
        _fleet = Fleet.Audited(_t.Backend, _sink, "ops@host", leases: _leases);
    }

    public void Dispose() => _t.Dispose();

    [Fact]
    public void A_change_to_a_farm_another_run_holds_is_refused_as_busy_and_not_announced()
    {
        _leases.HeldElsewhere.Add("Dev");

        var error = Assert.Throws<TtmException>(() => _fleet.Backend.SetFarmRoleRole(_fleet.RequireFarmRole("Dev", "Reports"), "Reports-1-6"));

        Assert.Equal(TtmErrorCode.FarmBusy, error.Code);
        Assert.Equal("Reports", _t.Fleet.RequireFarmRole("Dev", "Reports").Role);
        Assert.Empty(_sink.Entries);
    }

    [Fact]
    public void Outside_a_command_the_lease_is_held_for_the_change_alone()
    {
        _fleet.Backend.SetFarmRoleRole(_fleet.RequireFarmRole("Dev", "Reports"), "Reports-1-6");

        Assert.Equal(new[] { "Dev" }, Assert.Single(_leases.Taken));
        Assert.Empty(_leases.Holding);
    }

    [Fact]
    public void A_role_image_change_leases_every_farm_that_runs_the_role()
    {
        var role = _fleet.Roles().Require("Sidekiq");
        _leases.HeldElsewhere.Add("Production");

        var error = Assert.Throws<TtmException>(() => _fleet.Backend.SetRoleImage(role, "ami-new"));

        Assert.Equal(TtmErrorCode.FarmBusy, error.Code);
        Assert.Equal(role.ImageId, _t.Fleet.Roles().Require("Sidekiq").ImageId);
    }

    [Fact]
    public void In_a_command_each_farm_is_taken_once_kept_to_the_end_and_given_back_then()
    {
        using (var command = _fleet.ChangeLeases.Open("Set-TtmFarmRole"))
        {
            using (_fleet.ChangeLeases.Use(command))
            {
                _fleet.Backend.SetFarmRoleRole(_fleet.RequireFarmRole("Dev", "Reports"), "Reports-1-6");
                _fleet.Backend.SetFarmRoleRole(_fleet.RequireFarmRole("Dev", "Sidekiq"), "Sidekiq-1-6");
                // Worker threads of the command hold their leases in its scope too.
                Task.Run(() => _fleet.Backend.SetFarmRoleRole(_fleet.RequireFarmRole("Dev", "Reports"), "Reports")).Wait();
            }
            Assert.Equal(new[] { "Dev" }, Assert.Single(_leases.Taken));
            Assert.Equal(new[] { "Dev" }, _leases.Holding);
            Assert.Equal("Set-TtmFarmRole Dev", Assert.Single(_leases.Purposes));
        }
        Assert.Empty(_leases.Holding);
    }

    [Fact]
    public void A_change_that_touches_no_farm_asks_for_no_lease()
    {
        _leases.HeldElsewhere.Add("Dev");
        var template = _fleet.Roles().Require("Sidekiq");

        _fleet.Backend.CreateRole("Sidekiq-1-7", template, template.ImageId);

        Assert.Empty(_leases.Taken);
    }

    /// <summary>Leases as the real ones answer: busy for farms another run holds, counted for this one.</summary>
    private sealed class RecordingLeases : IFarmLeases
    {
        public HashSet<string> HeldElsewhere { get; } = new(StringComparer.OrdinalIgnoreCase);

        public List<string[]> Taken { get; } = new();

        public List<string> Purposes { get; } = new();

        public List<string> Holding { get; } = new();

        public string Scope => "a list in the test";

        public IDisposable AcquireFarms(IReadOnlyCollection<string> farms, string purpose, bool breakExpired)
        {
            lock (this)
            {
                var busy = farms.FirstOrDefault(HeldElsewhere.Contains);
                if (busy != null) throw new TtmException(TtmErrorCode.FarmBusy, $"farm {busy} is in use by another run.", busy);
                Taken.Add(farms.ToArray());
                Purposes.Add(purpose);
                Holding.AddRange(farms);
            }
            return new DisposableAction(() =>
            {
                lock (this) foreach (var farm in farms) Holding.Remove(farm);
            });
        }

        public IDisposable AcquireJournal(string journalPath, string purpose) => new DisposableAction(() => { });
    }
}

using Rebundle.Rebundling;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Tests;

/// <summary>Undo acts only where the fleet still shows the run's change, and can be run again.</summary>
public class RebundleUndoTests : IDisposable
{
    private readonly TestFleet _t = new();
    private readonly MemoryJournal _journal = new();

    public void Dispose() => _t.Dispose();

    private void Rebundle(RebundleOptions options)
    {
        var runner = new RebundleRunner(_t.Fleet, _journal, _t.Reporter);
        runner.Run(runner.PlanOrResume(options), options, TimeSpan.FromMinutes(10), CancellationToken.None);
    }

    private RebundleUndo Undo() => new(_t.Fleet, _journal, _t.Reporter);

    private IReadOnlyList<UndoChange> Restore(RebundleUndo undo) => undo.Plan().Select(undo.Apply).ToList();

    private int RecyclePending(RebundleUndo undo) =>
        undo.PendingRecycles().Sum(r => undo.Recycle(r.Farm, r.Alias, 3, TimeSpan.FromMinutes(10), CancellationToken.None).Count);

    private Dictionary<string, string> ServerImages() =>
        _t.Fleet.GetServers(null, null, null).Items.ToDictionary(s => s.Id, s => s.ImageId);

    [Fact]
    public void A_second_undo_finds_everything_already_undone_and_changes_and_recycles_nothing()
    {
        var before = _t.Fleet.Roles().All.ToDictionary(r => r.Name, r => r.ImageId);
        Rebundle(new RebundleOptions { SkipOsUpdate = true, BatchSize = 3, ApproveProduction = true });
        var first = Undo();
        Assert.All(Restore(first), c => Assert.Equal(UndoState.Restored, c.State));
        Assert.True(RecyclePending(first) > 0);
        Assert.All(_t.Servers("Production"), s => Assert.Equal(before[s.Role], s.ImageId));
        var state = File.ReadAllText(_t.StatePath);

        var second = Undo();
        var changes = second.Plan();

        Assert.NotEmpty(changes);
        Assert.All(changes, c => Assert.Equal(UndoState.AlreadyUndone, c.State));
        Assert.All(changes, c => second.Apply(c));
        Assert.Empty(second.PendingRecycles());
        Assert.Equal(state, File.ReadAllText(_t.StatePath));
    }

    [Fact]
    public void An_undo_killed_before_its_recycle_recycles_when_run_again_and_only_then()
    {
        Rebundle(new RebundleOptions { SkipOsUpdate = true, BatchSize = 3, ApproveProduction = true });
        Restore(Undo()); // killed here: roles are back, servers still on the new images

        var again = Undo();
        Assert.All(again.Plan(), c => Assert.Equal(UndoState.AlreadyUndone, c.State));
        Assert.Contains(("Production", "Sidekiq"), again.PendingRecycles());
        RecyclePending(again);

        Assert.All(_t.Servers("Production"), s => Assert.Equal(_t.Fleet.Roles().Require(s.Role).ImageId, s.ImageId));
        Assert.Empty(Undo().PendingRecycles());
    }

    [Fact]
    public void Undo_recycles_only_the_farm_roles_it_put_back()
    {
        Rebundle(new RebundleOptions { SkipOsUpdate = true, BatchSize = 3, ApproveProduction = true, Roles = new[] { "Sidekiq" } });
        var before = ServerImages();
        var undo = Undo();
        Restore(undo);

        Assert.Equal(new[] { ("Dev", "Sidekiq"), ("Production", "Sidekiq") }, undo.PendingRecycles().OrderBy(r => r.Farm));
        RecyclePending(undo);

        var untouched = _t.Fleet.GetServers(new[] { "Dev", "Production" }, null, null).Items.Where(s => s.Alias != "Sidekiq").ToList();
        Assert.NotEmpty(untouched);
        Assert.All(untouched, s => Assert.True(before.ContainsKey(s.Id), $"{s.Name} was not replaced"));
    }

    [Fact]
    public void A_change_someone_made_since_is_left_alone()
    {
        Rebundle(new RebundleOptions { SkipOsUpdate = true, BatchSize = 3, ApproveProduction = true, Roles = new[] { "Sidekiq" } });
        // Someone moves Dev's Sidekiq to yet another version after the rebundle.
        var assignments = new RoleAssignmentService(_t.Fleet);
        assignments.Apply(assignments.PlanFarmRole("Dev", "Sidekiq-1-6", "Sidekiq"));

        var undo = Undo();
        var dev = Assert.Single(undo.Plan(), c => c.Kind == UndoKind.FarmRole);
        Assert.Equal((UndoState.ChangedSince, "Sidekiq-1-6"), (dev.State, dev.Current));
        Restore(undo);

        Assert.Equal("Sidekiq-1-6", _t.Fleet.RequireFarmRole("Dev", "Sidekiq").Role);
        Assert.DoesNotContain(("Dev", "Sidekiq"), undo.PendingRecycles());
    }
}

using Rebundle.Rebundling;
using Xunit;

namespace Rebundle.Tests;

/// <summary>Retiring old versions keeps what a recent rebundle's undo would put back.</summary>
public class RetentionTests : IDisposable
{
    private readonly TestFleet _t = new();
    private readonly MemoryJournal _journal = new();

    public void Dispose() => _t.Dispose();

    private void Rebundle()
    {
        var options = new RebundleOptions { SkipOsUpdate = true, BatchSize = 3, ApproveProduction = true, Roles = new[] { "Sidekiq" } };
        var runner = new RebundleRunner(_t.Fleet, _journal, _t.Reporter);
        runner.Run(runner.PlanOrResume(options), options, TimeSpan.FromMinutes(10), CancellationToken.None);
    }

    private UndoNeeds? Needs(string? fleet = null) => UndoNeeds.Of("j.jsonl", _journal.Entries, _t.Clock.UtcNow, UndoNeeds.DefaultKeep, fleet ?? RebundlePlan.FleetOf(_t.Fleet.Backend));

    [Fact]
    public void The_version_holding_the_image_undo_puts_back_is_kept_naming_the_journal_and_undo_still_works()
    {
        var productionImage = _t.Fleet.Roles().Require("Sidekiq").ImageId;
        Rebundle();
        var service = new RoleRetirementService(_t.Fleet);

        var (retire, kept) = service.Plan(1, new[] { "Sidekiq" }, new[] { Needs()! });

        var keep = Assert.Single(kept, k => k.Role.ImageId == productionImage);
        Assert.Equal("j.jsonl", keep.Journal);
        Assert.DoesNotContain(retire, r => r.Role.ImageId == productionImage);
        foreach (var retirement in retire) service.Apply(retirement);

        var undo = new RebundleUndo(_t.Fleet, _journal, _t.Reporter);
        foreach (var change in undo.Plan()) undo.Apply(change);
        Assert.Equal(productionImage, _t.Fleet.Roles().Require("Sidekiq").ImageId);
    }

    [Fact]
    public void A_journal_older_than_the_keep_age_protects_nothing()
    {
        var productionImage = _t.Fleet.Roles().Require("Sidekiq").ImageId;
        Rebundle();
        _t.Clock.Advance(UndoNeeds.DefaultKeep);

        Assert.Null(Needs());
        var (retire, _) = new RoleRetirementService(_t.Fleet).Plan(1, new[] { "Sidekiq" });
        Assert.Contains(retire, r => r.Role.ImageId == productionImage && r.DeleteImage);
    }

    [Fact]
    public void Another_fleets_journal_protects_nothing()
    {
        Rebundle();
        Assert.NotNull(Needs());
        Assert.Null(Needs("Aws us-east-1 http://127.0.0.1:5000"));
    }
}

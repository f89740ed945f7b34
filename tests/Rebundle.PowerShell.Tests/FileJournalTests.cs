using System.Text;
using Rebundle.Errors;
using Rebundle.PowerShell.Infrastructure.Files;
using Rebundle.Rebundling;
using Xunit;

namespace Rebundle.PowerShell.Tests;

/// <summary>The rebundle journal on disk, as -Resume meets it after a run that stopped or crashed.</summary>
public sealed class FileJournalTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Path => _folder.File("rebundle.jsonl");

    private static JournalEntry Entry(string step, string @event, params (string Key, string Value)[] data) => new()
    {
        At = DateTimeOffset.Parse("2026-04-01T09:00:00Z"), Step = step, Event = @event,
        Data = data.ToDictionary(d => d.Key, d => d.Value),
    };

    private static JournalEntry Plan() =>
        Entry(RebundleRunner.PlanStep, "begin", ("stagingFarm", "Staging"), ("testFarm", "Test"), ("productionFarm", "Production"));

    private static JournalEntry Role(string role) => Entry("snapshot", "role", ("role", role), ("imageId", "ami-" + role));

    private FileJournal StartedRun()
    {
        var journal = FileJournal.Create(Path);
        journal.Append(Plan());
        journal.Append(Role("Sidekiq-1-7"));
        return journal;
    }

    private void AppendRaw(string text) => File.AppendAllText(Path, text, new UTF8Encoding(false));

    [Fact]
    public void What_a_run_wrote_is_what_resume_reads_in_order()
    {
        StartedRun().Append(Role("Reports-1-3"));

        var reopened = FileJournal.Open(Path);

        Assert.Equal(new[] { "plan.begin", "snapshot.role", "snapshot.role" }, reopened.Entries.Select(e => e.Type));
        Assert.Equal("Reports-1-3", reopened.Entries[2]["role"]);
        Assert.Equal(Path, reopened.Location);
    }

    [Fact]
    public void A_torn_last_line_is_set_aside_with_a_warning_and_the_entries_before_it_are_used()
    {
        StartedRun();
        var torn = JournalCodec.Encode(Role("Reports-1-3"));
        AppendRaw(torn.Substring(0, torn.Length / 2)); // the process died mid-write
        var warnings = new List<string>();

        var reopened = FileJournal.Open(Path, warnings.Add);

        Assert.Equal(new[] { "plan.begin", "snapshot.role" }, reopened.Entries.Select(e => e.Type));
        var warning = Assert.Single(warnings);
        Assert.Contains($"Line 3 of the journal {Path} was cut short by a crash mid-write", warning);
        Assert.Contains(Path + ".torn-1", warning);
        Assert.Equal(torn.Substring(0, torn.Length / 2), File.ReadAllText(Path + ".torn-1"));
        Assert.EndsWith("\n", File.ReadAllText(Path));
    }

    [Fact]
    public void After_a_torn_line_is_set_aside_the_next_entry_starts_on_a_clean_line()
    {
        StartedRun();
        AppendRaw("0123456789abcdef {\"v\":2,\"ty");
        var reopened = FileJournal.Open(Path, _ => { });

        reopened.Append(Entry("snapshot", "done"));
        var warnings = new List<string>();
        var again = FileJournal.Open(Path, warnings.Add);

        Assert.Equal(new[] { "plan.begin", "snapshot.role", "snapshot.done" }, again.Entries.Select(e => e.Type));
        Assert.Empty(warnings);
    }

    [Fact]
    public void A_second_torn_line_is_set_aside_beside_the_first_without_overwriting_it()
    {
        StartedRun();
        AppendRaw("first torn");
        FileJournal.Open(Path, _ => { });
        AppendRaw("second torn");

        FileJournal.Open(Path, _ => { });

        Assert.Equal("first torn", File.ReadAllText(Path + ".torn-1"));
        Assert.Equal("second torn", File.ReadAllText(Path + ".torn-2"));
    }

    [Fact]
    public void Reading_another_runs_journal_changes_nothing_even_when_its_last_line_is_torn()
    {
        StartedRun();
        AppendRaw("torn");
        var before = File.ReadAllBytes(Path);

        var entries = FileJournal.Peek(Path);

        Assert.Equal(2, entries.Count);
        Assert.Equal(before, File.ReadAllBytes(Path));
        Assert.False(File.Exists(Path + ".torn-1"));
    }

    [Fact]
    public void A_new_run_refuses_a_journal_that_exists_and_points_to_resume()
    {
        StartedRun();

        var error = Assert.Throws<TtmException>(() => FileJournal.Create(Path));

        Assert.Equal(TtmErrorCode.InvalidArgument, error.Code);
        Assert.Contains($"-Resume '{Path}'", error.Message);
    }

    [Fact]
    public void Resuming_from_a_missing_file_or_a_file_without_a_plan_says_so()
    {
        var missing = Assert.Throws<TtmException>(() => FileJournal.Open(Path));
        Assert.Equal(TtmErrorCode.InvalidArgument, missing.Code);
        Assert.Contains($"There is no journal at {Path}", missing.Message);

        File.WriteAllText(Path, JournalCodec.Encode(Role("Sidekiq-1-7")) + "\n");
        var notAJournal = Assert.Throws<TtmException>(() => FileJournal.Open(Path));
        Assert.Contains("is not a Rebundle journal (it has no plan)", notAJournal.Message);
    }

    [Fact]
    public void A_new_runs_journal_is_made_at_its_first_entry_so_WhatIf_leaves_no_file()
    {
        var journal = DeferredJournal.OpenOrDefer(Path, resuming: false, _ => { });

        Assert.Empty(journal.Entries);
        Assert.False(File.Exists(Path));

        journal.Append(Plan());

        Assert.True(File.Exists(Path));
        Assert.Single(FileJournal.Open(Path).Entries);
    }
}

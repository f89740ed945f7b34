using Rebundle.Errors;
using Rebundle.Rebundling;
using Xunit;

namespace Rebundle.Tests;

public class JournalCodecTests
{
    private static JournalEntry Entry(string role, string imageId) => new()
    {
        At = DateTimeOffset.Parse("2026-04-01T09:00:00Z"), Step = "snapshot", Event = "role",
        Data = new Dictionary<string, string> { ["role"] = role, ["imageId"] = imageId },
    };

    private static JournalContents Read(bool ended, params string[] lines) => JournalCodec.Read(lines, ended, "j.jsonl");

    [Fact]
    public void A_record_carries_its_schema_version_type_and_a_checksum_and_round_trips()
    {
        var line = JournalCodec.Encode(Entry("Sidekiq-1-7", "ami-1"));
        Assert.Matches("^[0-9a-f]{16} \\{\"v\":2,\"type\":\"snapshot.role\",", line);
        var only = Assert.Single(Read(true, line).Entries);
        Assert.Equal(("snapshot", "role", "ami-1"), (only.Step, only.Event, only["imageId"]));
    }

    [Fact]
    public void A_last_line_without_its_newline_is_torn_even_when_it_parses()
    {
        var line = JournalCodec.Encode(Entry("Sidekiq-1-7", "ami-1"));
        var contents = Read(false, line, line);
        Assert.Single(contents.Entries);
        Assert.Equal(2, contents.TornLine);
    }

    [Fact]
    public void A_last_line_that_fails_its_checksum_is_torn_and_named_by_its_line_number()
    {
        var line = JournalCodec.Encode(Entry("Sidekiq-1-7", "ami-1"));
        var garbled = JournalCodec.Encode(Entry("Sidekiq-1-8", "ami-2")).Replace("ami-2", "ami-3");
        var contents = Read(true, line, line, garbled);
        Assert.Equal(2, contents.Entries.Count);
        Assert.Equal(3, contents.TornLine);
    }

    [Fact]
    public void A_bad_line_with_good_lines_after_it_is_JournalCorrupt_naming_the_line()
    {
        var line = JournalCodec.Encode(Entry("Sidekiq-1-7", "ami-1"));
        // Today's bug: the next entry glued onto a torn one.
        var glued = line.Substring(0, line.Length / 2) + line;
        var error = Assert.Throws<TtmException>(() => Read(true, line, glued, line));
        Assert.Equal(TtmErrorCode.JournalCorrupt, error.Code);
        Assert.Contains("Line 2 of the journal j.jsonl", error.Message);
    }

    [Fact]
    public void Version_one_lines_without_a_checksum_still_read()
    {
        const string old = "{\"at\":\"2026-04-01T09:00:00.0000000+00:00\",\"step\":\"promote\",\"event\":\"promoting\",\"data\":{\"role\":\"Sidekiq\",\"before\":\"ami-0\",\"after\":\"ami-1\"}}";
        var contents = Read(true, old, JournalCodec.Encode(Entry("Sidekiq-1-7", "ami-1")));
        Assert.Null(contents.TornLine);
        Assert.Equal(new[] { "promote.promoting", "snapshot.role" }, contents.Entries.Select(e => e.Type));
    }

    [Fact]
    public void A_changed_record_fails_its_checksum_and_an_incomplete_one_is_never_written()
    {
        var line = JournalCodec.Encode(Entry("Sidekiq-1-7", "ami-1"));
        var error = Assert.Throws<TtmException>(() => Read(true, line.Replace("\"role\":\"Sidekiq-1-7\",", ""), line));
        Assert.Equal(TtmErrorCode.JournalCorrupt, error.Code); // the checksum no longer matches
        Assert.Throws<InvalidOperationException>(() => JournalCodec.Encode(new JournalEntry { Step = "promote", Event = "promoting" }));
    }
}

using System.Text;
using Rebundle.Audit;
using Rebundle.Errors;
using Rebundle.PowerShell.Infrastructure.Files;
using Xunit;

namespace Rebundle.PowerShell.Tests;

/// <summary>The audit log file as Get-TtmAuditLog reads it back (AppendOnlyFile.ReadLines, AuditCodec).</summary>
public sealed class FileAuditSinkTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Path => _folder.File("audit.log");

    private static AuditEntry Entry(string target, bool intent = false, string changeId = "c1") => new()
    {
        Time = DateTimeOffset.Parse("2026-04-01T09:00:00Z"), User = "ops@host", Backend = "Sandbox", Location = "/tmp/s",
        Action = "LaunchServers", Target = target, Farms = new[] { "Dev" }, ChangeId = changeId, IsIntent = intent,
        Outcome = AuditOutcome.Done,
    };

    private IReadOnlyList<AuditEntry> ReadBack(List<int>? skipped = null) =>
        AuditCodec.Decode(AppendOnlyFile.ReadLines(Path), n => skipped?.Add(n));

    [Fact]
    public void Each_entry_is_one_whole_line_read_back_as_written()
    {
        var sink = new FileAuditSink(Path);
        var written = new[] { Entry("Dev/Reports", intent: true), Entry("Dev/Reports") };

        foreach (var entry in written) sink.Write(entry);

        Assert.Equal(written, ReadBack());
        var text = File.ReadAllText(Path);
        Assert.EndsWith("\n", text);
        Assert.Equal(2, text.Count(c => c == '\n'));
    }

    [Fact]
    public void The_log_and_its_folder_are_made_when_missing()
    {
        var nested = new FileAuditSink(_folder.File(System.IO.Path.Combine("new", "folder", "audit.log")));

        nested.Write(Entry("Dev/Reports"));

        Assert.True(File.Exists(nested.Path));
    }

    [Fact]
    public void A_line_torn_by_a_crash_does_not_swallow_the_next_entry()
    {
        var sink = new FileAuditSink(Path);
        sink.Write(Entry("Dev/Reports", intent: true));
        File.AppendAllText(Path, "{\"time\":\"2026-04-01T09:00", new UTF8Encoding(false)); // the process died mid-line
        var skipped = new List<int>();

        sink.Write(Entry("Dev/Sidekiq", changeId: "c2"));

        Assert.Equal(new[] { "Dev/Reports", "Dev/Sidekiq" }, ReadBack(skipped).Select(e => e.Target));
        Assert.Equal(new[] { 2 }, skipped);
    }

    [Fact]
    public void Sessions_writing_at_once_never_interleave_their_lines()
    {
        const int Writers = 4, Each = 50;

        Parallel.For(0, Writers, w =>
        {
            var sink = new FileAuditSink(Path); // a session of its own
            for (var i = 0; i < Each; i++) sink.Write(Entry($"Dev/Writer{w}", changeId: $"{w}-{i}"));
        });

        var skipped = new List<int>();
        var lines = ReadBack(skipped);
        Assert.Empty(skipped);
        Assert.Equal(Writers * Each, lines.Count);
        Assert.All(Enumerable.Range(0, Writers), w =>
            Assert.Equal(Enumerable.Range(0, Each).Select(i => $"{w}-{i}"), lines.Where(e => e.Target == $"Dev/Writer{w}").Select(e => e.ChangeId)));
    }

    [Fact]
    public void A_log_that_cannot_be_written_is_AuditFailed_naming_the_file_and_the_change_not_done()
    {
        var blocker = _folder.File("a-file");
        File.WriteAllText(blocker, "not a folder");
        var sink = new FileAuditSink(System.IO.Path.Combine(blocker, "audit.log"));

        var error = Assert.Throws<TtmException>(() => sink.Write(Entry("Dev/Reports")));

        Assert.Equal(TtmErrorCode.AuditFailed, error.Code);
        Assert.StartsWith($"The audit log {sink.Path} cannot be written", error.Message);
        Assert.Contains("so LaunchServers on Dev/Reports was not done", error.Message);
        Assert.Contains("-AuditLogPath", error.Message);
    }
}

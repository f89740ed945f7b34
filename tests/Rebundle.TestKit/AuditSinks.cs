using System.Collections.Generic;
using Rebundle.Audit;
using Rebundle.Errors;

namespace Rebundle.TestKit;

/// <summary>An audit log in memory: what the audit wrote, in order (into a list of the test's, if given).</summary>
public sealed class ListSink : IAuditSink
{
    public ListSink() : this(new List<AuditEntry>()) { }

    public ListSink(List<AuditEntry> entries) => Entries = entries;

    public List<AuditEntry> Entries { get; }

    public void Write(AuditEntry entry)
    {
        lock (Entries) Entries.Add(entry);
    }
}

/// <summary>The audit log as the file holds it: encoded lines, read back by the codec Get-TtmAuditLog uses.</summary>
public sealed class LineSink : IAuditSink
{
    private readonly List<string> _lines = new();

    public void Write(AuditEntry entry) => _lines.Add(AuditCodec.Encode(entry));

    public IReadOnlyList<AuditEntry> Lines() => AuditCodec.Decode(_lines);

    public IReadOnlyList<AuditEntry> Changes() => AuditCodec.Changes(Lines());

    public void Clear() => _lines.Clear();
}

/// <summary>An audit log that keeps nothing.</summary>
public sealed class NoAudit : IAuditSink
{
    public void Write(AuditEntry entry) { }
}

/// <summary>An audit log that cannot be written (the disk is full).</summary>
public sealed class FailingSink : IAuditSink
{
    public void Write(AuditEntry entry) => throw new TtmException(TtmErrorCode.AuditFailed, "disk full");
}

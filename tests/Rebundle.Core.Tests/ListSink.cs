using Rebundle.Audit;

namespace Rebundle.Tests;

/// <summary>An audit log in memory: what the audit wrote, in order.</summary>
internal sealed class ListSink : IAuditSink
{
    public List<AuditEntry> Entries { get; } = new();

    public void Write(AuditEntry entry)
    {
        lock (Entries) Entries.Add(entry);
    }
}

namespace Rebundle.Rebundling
{
    /// <summary>
    /// One record of a rebundle journal: a step began or finished, or an object was made on the
    /// way (an image id, a role, a replaced server). Written before and after every change so a
    /// resumed run knows exactly what already happened. Its type is <c>&lt;step&gt;.&lt;event&gt;</c>.
    /// </summary>
    public sealed record JournalEntry
    {
        public DateTimeOffset At { get; init; }

        /// <summary>plan, os-update, base-image, recycle-staging, snapshot, swap-test, recycle-test, gate, promote, recycle-production, finished, undo.</summary>
        public string Step { get; init; } = "";

        /// <summary>begin, done, or an item event (image, role, replaced, swapped, promoted, waiting).</summary>
        public string Event { get; init; } = "";

        public IReadOnlyDictionary<string, string> Data { get; init; } = new Dictionary<string, string>();

        /// <summary>The record type as written in the file: <c>snapshot.role</c>, <c>promote.promoting</c>.</summary>
        public string Type => Step + "." + Event;

        public string? this[string key] => Data.TryGetValue(key, out var value) ? value : null;
    }

    /// <summary>Where journal entries are kept; the module appends them to a JSON-lines file.</summary>
    public interface IJournal
    {
        /// <summary>Where it lives (shown to the operator for -Resume).</summary>
        string Location { get; }

        IReadOnlyList<JournalEntry> Entries { get; }

        /// <summary>Appends and makes it durable before returning.</summary>
        void Append(JournalEntry entry);
    }

    /// <summary>A journal in memory (tests).</summary>
    public sealed class MemoryJournal : IJournal
    {
        private readonly List<JournalEntry> _entries = new List<JournalEntry>();

        public string Location => "memory";

        public IReadOnlyList<JournalEntry> Entries => _entries;

        public void Append(JournalEntry entry) => _entries.Add(entry);
    }
}

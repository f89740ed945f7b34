using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;

namespace Rebundle.Rebundling
{
    /// <summary>
    /// One line of a rebundle journal: a step began or finished, or an object was made on the
    /// way (an image id, a role, a replaced server). Written before and after every change so a
    /// resumed run knows exactly what already happened.
    /// </summary>
    public sealed record JournalEntry
    {
        public DateTimeOffset At { get; init; }

        /// <summary>plan, os-update, base-image, recycle-staging, snapshot, swap-test, recycle-test, gate, promote, recycle-production, finished, undo.</summary>
        public string Step { get; init; } = "";

        /// <summary>begin, done, or an item event (image, role, replaced, swapped, promoted, waiting).</summary>
        public string Event { get; init; } = "";

        public IReadOnlyDictionary<string, string> Data { get; init; } = new Dictionary<string, string>();

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

    /// <summary>The journal's line format: one JSON object per line.</summary>
    public static class JournalCodec
    {
        public static string Encode(JournalEntry entry) => JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["at"] = entry.At.ToString("o"),
            ["step"] = entry.Step,
            ["event"] = entry.Event,
            ["data"] = entry.Data,
        });

        /// <summary>Reads every complete line; a torn last line (a crash mid-write) is ignored.</summary>
        public static IReadOnlyList<JournalEntry> Decode(IEnumerable<string> lines)
        {
            var entries = new List<JournalEntry>();
            foreach (var line in lines.Where(l => !string.IsNullOrWhiteSpace(l)))
            {
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    var root = doc.RootElement;
                    entries.Add(new JournalEntry
                    {
                        At = DateTimeOffset.Parse(root.GetProperty("at").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                        Step = root.GetProperty("step").GetString()!,
                        Event = root.GetProperty("event").GetString()!,
                        Data = root.GetProperty("data").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
                    });
                }
                catch (Exception e) when (e is JsonException || e is KeyNotFoundException || e is FormatException || e is InvalidOperationException)
                {
                    break; // torn tail: everything after a broken line is not trusted
                }
            }
            return entries;
        }
    }
}

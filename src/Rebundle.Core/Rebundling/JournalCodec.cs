using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Rebundle.Errors;

namespace Rebundle.Rebundling
{
    /// <summary>What a journal file held: its entries, and the torn last line set aside, if any.</summary>
    public sealed record JournalContents(IReadOnlyList<JournalEntry> Entries, int? TornLine, int GoodLines);

    /// <summary>
    /// The journal's line format (schema version 2): <c>&lt;checksum&gt; {"v":2,"type":"snapshot.role","at":…,"data":{…}}</c>.
    /// The checksum is the first 16 hex digits of the SHA-256 of the JSON, so a line cut by a
    /// crash (or garbled) is told apart from a whole one. Lines of version 1 (bare JSON with
    /// step and event, no checksum) are still read.
    /// </summary>
    public static class JournalCodec
    {
        public const int SchemaVersion = 2;
        private const int ChecksumLength = 16;

        public static string Encode(JournalEntry entry)
        {
            JournalRecords.Check(entry);
            var json = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["v"] = SchemaVersion,
                ["type"] = entry.Type,
                ["at"] = entry.At.ToString("o", CultureInfo.InvariantCulture),
                ["data"] = entry.Data,
            });
            return Checksum(json) + " " + json;
        }

        /// <summary>
        /// Reads a journal's lines. <paramref name="lastLineEnded"/> says whether the file ended
        /// with a newline. The last line is torn when it has no newline or fails its check (a
        /// crash mid-write): it is reported, not read. A bad line with good lines after it is
        /// never skipped: later entries would vanish, so it is TtmJournalCorrupt.
        /// </summary>
        public static JournalContents Read(IReadOnlyList<string> lines, bool lastLineEnded, string location)
        {
            var entries = new List<JournalEntry>();
            var last = lines.Count;
            while (last > 0 && string.IsNullOrWhiteSpace(lines[last - 1])) last--;
            for (var i = 0; i < last; i++)
            {
                if (string.IsNullOrWhiteSpace(lines[i])) continue;
                var isLast = i == last - 1;
                if (isLast && !lastLineEnded && last == lines.Count) return new JournalContents(entries, i + 1, i);
                var (entry, problem) = TryDecode(lines[i]);
                if (entry != null)
                {
                    entries.Add(entry);
                    continue;
                }
                if (isLast) return new JournalContents(entries, i + 1, i);
                throw new TtmException(TtmErrorCode.JournalCorrupt,
                    $"Line {i + 1} of the journal {location} is damaged ({problem}) and valid entries follow it, so it cannot be a torn write. " +
                    "Rebundle will not guess what happened: compare the journal with the fleet (Get-TtmAuditLog), repair or remove that line, and try again.", location);
            }
            return new JournalContents(entries, null, last);
        }

        /// <summary>Decodes whole lines, stopping at the first bad one (tests and tools).</summary>
        public static IReadOnlyList<JournalEntry> Decode(IEnumerable<string> lines) =>
            lines.Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => TryDecode(l).Entry).TakeWhile(e => e != null).Select(e => e!).ToList();

        private static (JournalEntry? Entry, string Problem) TryDecode(string line)
        {
            var trimmed = line.TrimEnd('\r');
            if (trimmed.StartsWith("{", StringComparison.Ordinal)) return Parse(trimmed, versionOne: true);
            if (trimmed.Length < ChecksumLength + 2 || trimmed[ChecksumLength] != ' ') return (null, "no checksum");
            var json = trimmed.Substring(ChecksumLength + 1);
            if (!string.Equals(trimmed.Substring(0, ChecksumLength), Checksum(json), StringComparison.OrdinalIgnoreCase)) return (null, "checksum mismatch");
            return Parse(json, versionOne: false);
        }

        private static (JournalEntry?, string) Parse(string json, bool versionOne)
        {
            try
            {
                using var doc = JsonDocument.Parse(json);
                var root = doc.RootElement;
                string step, @event;
                if (versionOne)
                {
                    step = root.GetProperty("step").GetString()!;
                    @event = root.GetProperty("event").GetString()!;
                }
                else
                {
                    var version = root.GetProperty("v").GetInt32();
                    if (version > SchemaVersion) return (null, $"schema version {version}, written by a newer Rebundle");
                    var type = root.GetProperty("type").GetString()!;
                    var dot = type.IndexOf('.');
                    if (dot <= 0) return (null, $"record type '{type}' has no step");
                    step = type.Substring(0, dot);
                    @event = type.Substring(dot + 1);
                }
                var entry = new JournalEntry
                {
                    At = DateTimeOffset.Parse(root.GetProperty("at").GetString()!, CultureInfo.InvariantCulture),
                    Step = step,
                    Event = @event,
                    Data = root.GetProperty("data").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
                };
                var missing = JournalRecords.Missing(entry);
                return missing == null ? (entry, "") : (null, missing);
            }
            catch (Exception e) when (e is JsonException || e is KeyNotFoundException || e is FormatException || e is InvalidOperationException)
            {
                return (null, "not a journal record");
            }
        }

        private static string Checksum(string json)
        {
            using var sha = SHA256.Create();
            var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(json));
            return string.Concat(hash.Take(ChecksumLength / 2).Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
        }
    }
}

using System.Globalization;
using System.Text.Json;

namespace Rebundle.Audit
{
    /// <summary>The audit log's line format: one JSON object per line, an intent and then its outcome per change.</summary>
    public static class AuditCodec
    {
        public static string Encode(AuditEntry entry) => JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["time"] = entry.Time.ToString("o", CultureInfo.InvariantCulture),
            ["change"] = entry.ChangeId,
            ["phase"] = entry.IsIntent ? "intent" : entry.Outcome == AuditOutcome.Failed ? "failed" : "done",
            ["user"] = entry.User,
            ["backend"] = entry.Backend,
            ["location"] = entry.Location,
            ["action"] = entry.Action,
            ["target"] = entry.Target,
            ["farms"] = entry.Farms,
            ["servers"] = entry.Servers,
            ["before"] = entry.Before,
            ["after"] = entry.After,
            ["error"] = entry.Error,
        });

        /// <summary>
        /// Reads every well-formed line. A line that is not an entry (a torn write: the process died
        /// mid-line) is skipped and reported through <paramref name="skipped"/> with its line number;
        /// it never hides the lines after it.
        /// </summary>
        public static IReadOnlyList<AuditEntry> Decode(IEnumerable<string> lines, Action<int>? skipped = null)
        {
            var entries = new List<AuditEntry>();
            var number = 0;
            foreach (var line in lines)
            {
                number++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                var entry = TryDecode(line);
                if (entry != null) entries.Add(entry);
                else skipped?.Invoke(number);
            }
            return entries;
        }

        /// <summary>
        /// One entry per change, in the order the changes were announced: the intent's details with
        /// the outcome's result. Lines from logs written before intents existed count as done.
        /// </summary>
        public static IReadOnlyList<AuditEntry> Changes(IReadOnlyList<AuditEntry> lines)
        {
            var outcomes = lines.Where(l => !l.IsIntent && l.ChangeId.Length > 0)
                .GroupBy(l => l.ChangeId).ToDictionary(g => g.Key, g => g.Last());
            var changes = new List<AuditEntry>();
            foreach (var line in lines)
            {
                if (line.ChangeId.Length == 0) changes.Add(line with { Outcome = AuditOutcome.Done });
                else if (line.IsIntent)
                    changes.Add(outcomes.TryGetValue(line.ChangeId, out var outcome)
                        ? line with { IsIntent = false, Outcome = outcome.Outcome, After = outcome.After ?? line.After, Error = outcome.Error,
                            Servers = outcome.Servers.Count > 0 ? outcome.Servers : line.Servers }
                        : line with { IsIntent = false, Outcome = AuditOutcome.Unknown });
            }
            return changes;
        }

        private static AuditEntry? TryDecode(string line)
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) return null;
                string? Text(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
                var phase = Text("phase");
                List<string> Texts(string name) => root.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array
                    ? list.EnumerateArray().Where(f => f.ValueKind == JsonValueKind.String).Select(f => f.GetString()!).ToList()
                    : new List<string>();
                return new AuditEntry
                {
                    Time = DateTimeOffset.Parse(Text("time") ?? throw new FormatException("no time"), CultureInfo.InvariantCulture),
                    ChangeId = Text("change") ?? "",
                    IsIntent = phase == "intent",
                    Outcome = phase == "failed" ? AuditOutcome.Failed : AuditOutcome.Done,
                    User = Text("user") ?? "",
                    Backend = Text("backend") ?? "",
                    Location = Text("location") ?? "",
                    Action = Text("action") ?? "",
                    Target = Text("target") ?? "",
                    Farms = Texts("farms"),
                    Before = Text("before"),
                    Servers = Texts("servers"), // absent from lines written before batches
                    After = Text("after"),
                    Error = Text("error"),
                };
            }
            catch (Exception e) when (e is JsonException || e is FormatException)
            {
                return null;
            }
        }
    }
}

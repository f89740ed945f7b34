using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;

namespace Rebundle.Audit
{
    /// <summary>The audit log's line format: one JSON object per change.</summary>
    public static class AuditCodec
    {
        public static string Encode(AuditEntry entry) => JsonSerializer.Serialize(new Dictionary<string, string?>
        {
            ["time"] = entry.Time.ToString("o", CultureInfo.InvariantCulture),
            ["user"] = entry.User,
            ["backend"] = entry.Backend,
            ["location"] = entry.Location,
            ["action"] = entry.Action,
            ["target"] = entry.Target,
            ["before"] = entry.Before,
            ["after"] = entry.After,
        });

        /// <summary>Reads every well-formed line; a line that is not an audit entry is skipped, not fatal.</summary>
        public static IReadOnlyList<AuditEntry> Decode(IEnumerable<string> lines)
        {
            var entries = new List<AuditEntry>();
            foreach (var line in lines.Where(l => !string.IsNullOrWhiteSpace(l)))
            {
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    var root = doc.RootElement;
                    string? Text(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
                    entries.Add(new AuditEntry
                    {
                        Time = DateTimeOffset.Parse(Text("time") ?? throw new FormatException("no time"), CultureInfo.InvariantCulture),
                        User = Text("user") ?? "",
                        Backend = Text("backend") ?? "",
                        Location = Text("location") ?? "",
                        Action = Text("action") ?? "",
                        Target = Text("target") ?? "",
                        Before = Text("before"),
                        After = Text("after"),
                    });
                }
                catch (Exception e) when (e is JsonException || e is FormatException)
                {
                }
            }
            return entries;
        }
    }
}

namespace Rebundle.Rebundling
{
    /// <summary>
    /// The journal's record types and the data each must carry. Resume and undo act on these
    /// fields, so a record without them is refused when written and when read. Types not
    /// listed (begin, done, new events) carry what they like.
    /// </summary>
    public static class JournalRecords
    {
        private static readonly Dictionary<string, string[]> Required = new Dictionary<string, string[]>(StringComparer.Ordinal)
        {
            ["plan.begin"] = new[] { "stagingFarm", "testFarm", "productionFarm" },
            ["base-image.before"] = new[] { "role", "imageId" },
            ["base-image.image"] = new[] { "role", "imageId" },
            ["base-image.replaced"] = new[] { "role", "before", "after" },
            ["snapshot.image"] = new[] { "role", "imageId" },
            ["snapshot.role"] = new[] { "role", "imageId" },
            ["swap-test.swapping"] = new[] { "farm", "alias", "before", "after" },
            ["swap-test.swapped"] = new[] { "farm", "alias", "before", "after" },
            ["promote.promoting"] = new[] { "role", "before", "after" },
            ["promote.promoted"] = new[] { "role", "before", "after" },
            ["undo.restoring"] = new[] { "kind", "farm", "target", "to" },
            ["undo.restored"] = new[] { "kind", "farm", "target", "to" },
            ["undo.recycled"] = new[] { "farm", "alias" },
        };

        /// <summary>Null when the entry has what its type needs; else what is missing.</summary>
        public static string? Missing(JournalEntry entry)
        {
            if (entry.Step.Length == 0 || entry.Event.Length == 0) return "no record type";
            if (!Required.TryGetValue(entry.Type, out var keys)) return null;
            var missing = keys.Where(k => !entry.Data.ContainsKey(k)).ToList();
            return missing.Count == 0 ? null : $"record {entry.Type} lacks {string.Join(", ", missing)}";
        }

        /// <summary>A programming error, not an operator's: every writer fills its record.</summary>
        internal static void Check(JournalEntry entry)
        {
            var missing = Missing(entry);
            if (missing != null) throw new InvalidOperationException("Journal record not written: " + missing);
        }
    }
}

namespace Rebundle.Rebundling
{
    /// <summary>
    /// What undoing one rebundle journal needs to still exist: the images roles go back to
    /// (production promotions, the base role's image) and the roles farm roles go back to.
    /// Retention keeps them while the journal is young enough to be undone.
    /// </summary>
    public sealed record UndoNeeds(string Journal, DateTimeOffset StartedAt, IReadOnlyCollection<string> Images, IReadOnlyCollection<string> Roles)
    {
        /// <summary>How long a rebundle stays undoable unless the operator says otherwise.</summary>
        public static readonly TimeSpan DefaultKeep = TimeSpan.FromDays(30);

        /// <summary>
        /// The needs of a journal of fleet <paramref name="fleet"/> (<see cref="RebundlePlan.FleetOf"/>) that started less
        /// than <paramref name="keep"/> ago; null for an older one, another fleet's, or not a rebundle. Journals from
        /// before plans named their fleet count for every fleet.
        /// </summary>
        public static UndoNeeds? Of(string journal, IReadOnlyList<JournalEntry> entries, DateTimeOffset now, TimeSpan keep, string fleet)
        {
            var plan = entries.FirstOrDefault(e => e.Step == RebundleRunner.PlanStep);
            if (plan == null || now - plan.At >= keep) return null;
            var recordedFleet = plan["fleet"];
            if (!string.IsNullOrEmpty(recordedFleet) && !string.Equals(recordedFleet, fleet, StringComparison.Ordinal)) return null;
            var images = entries.Where(e => (e.Step == "promote" && e.Event == "promoting") || (e.Step == "base-image" && e.Event == "before"))
                .Select(e => e["before"] ?? e["imageId"]).Where(i => !string.IsNullOrEmpty(i)).Select(i => i!);
            var roles = entries.Where(e => e.Step == "swap-test" && e.Event == "swapping").Select(e => e["before"]!).Where(r => !string.IsNullOrEmpty(r));
            return new UndoNeeds(journal, plan.At,
                new HashSet<string>(images, StringComparer.Ordinal), new HashSet<string>(roles, StringComparer.OrdinalIgnoreCase));
        }
    }
}

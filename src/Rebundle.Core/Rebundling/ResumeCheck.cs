using System.Globalization;
using Rebundle.Errors;

namespace Rebundle.Rebundling
{
    /// <summary>
    /// The original run's parameters, given again with -Resume (null: not given). An operator
    /// re-running the command line from their history plus -Resume gets the journal's plan when
    /// everything they typed matches it, and a refusal naming each difference otherwise — a
    /// resume never silently runs a different plan from the one typed.
    /// </summary>
    public sealed record RebundleRestatement
    {
        public string? StagingFarm { get; init; }

        public string? TestFarm { get; init; }

        public string? ProductionFarm { get; init; }

        public IReadOnlyList<string>? Roles { get; init; }

        public bool? Major { get; init; }

        public IReadOnlyList<string>? Packages { get; init; }

        public bool? SkipOsUpdate { get; init; }

        public bool? Verify { get; init; }

        public int? BatchSize { get; init; }
    }

    public static class ResumeCheck
    {
        /// <summary>Each parameter given that the journal's plan disagrees with, as "-Name given (journal: recorded)".</summary>
        public static IReadOnlyList<string> Differences(RebundlePlan recorded, RebundleRestatement given)
        {
            var differences = new List<string>();
            void Compare(string parameter, string? typed, string journal)
            {
                if (typed != null && !string.Equals(typed, journal, StringComparison.OrdinalIgnoreCase))
                    differences.Add($"-{parameter} {typed} (journal: {journal})");
            }
            string Set(IEnumerable<string> items) =>
                string.Join(", ", items.OrderBy(i => i, StringComparer.OrdinalIgnoreCase).Distinct(StringComparer.OrdinalIgnoreCase));
            string? Flag(bool? value) => value == null ? null : value.Value ? "$true" : "$false";

            Compare("StagingFarm", given.StagingFarm, recorded.StagingFarm);
            Compare("TestFarm", given.TestFarm, recorded.TestFarm);
            Compare("ProductionFarm", given.ProductionFarm, recorded.ProductionFarm);
            Compare("Role", given.Roles == null ? null : Set(given.Roles), Set(recorded.Snapshots.Keys));
            Compare("Major", Flag(given.Major), Flag(recorded.Major)!);
            Compare("Package", given.Packages == null ? null : Set(given.Packages), Set(recorded.Packages));
            Compare("SkipOsUpdate", Flag(given.SkipOsUpdate), Flag(recorded.SkipOsUpdate)!);
            Compare("Check", given.Verify == null ? null : given.Verify.Value ? "given" : "none", recorded.Verify ? "given" : "none");
            Compare("BatchSize", given.BatchSize?.ToString(CultureInfo.InvariantCulture), recorded.BatchSize.ToString(CultureInfo.InvariantCulture));
            return differences;
        }

        /// <summary>Refuses a resume whose parameters differ from the journal's plan, naming each difference.</summary>
        public static void Require(RebundlePlan recorded, RebundleRestatement given, string journal)
        {
            var differences = Differences(recorded, given);
            if (differences.Count == 0) return;
            throw new TtmException(TtmErrorCode.InvalidArgument,
                $"-Resume continues the plan recorded in {journal}, but {string.Join("; ", differences)}. " +
                "Leave those parameters out (the journal's plan is used) or give the journal's values; to run a different plan, start a new rebundle without -Resume.",
                journal);
        }
    }
}

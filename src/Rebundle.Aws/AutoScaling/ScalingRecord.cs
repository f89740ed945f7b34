using System.Globalization;

namespace Rebundle.Aws.AutoScaling
{
    /// <summary>
    /// What a recycle is to put back on a group, kept on the group itself as the tag
    /// <c>ttm:recycle</c> ("desired=2;max=2;suspended=AZRebalance,ReplaceUnhealthy"): written
    /// before the recycle changes anything, removed as the last step of putting it back. A run
    /// killed in between leaves it, and the next recycle of the farm restores from it — the
    /// record is as the group was before the first run, however many runs were stopped since.
    /// </summary>
    public sealed class ScalingRecord
    {
        public const string Tag = "ttm:recycle";

        public ScalingRecord(int desired, int max, IReadOnlyList<string> suspended)
        {
            Desired = desired;
            Max = max;
            Suspended = suspended;
        }

        /// <summary>The group's desired capacity before the recycle: the farm role's count while it is held.</summary>
        public int Desired { get; }

        public int Max { get; }

        /// <summary>The processes the recycle suspended (not those suspended before it: those stay suspended).</summary>
        public IReadOnlyList<string> Suspended { get; }

        public string Format() =>
            string.Format(CultureInfo.InvariantCulture, "desired={0};max={1};suspended={2}", Desired, Max, string.Join(",", Suspended));

        /// <summary>The record a tag value holds, or null when it is not one (a hand-edited tag is not trusted: its group is treated as not held).</summary>
        public static ScalingRecord? Parse(string? value)
        {
            if (string.IsNullOrWhiteSpace(value)) return null;
            var parts = value!.Split(';').Select(p => p.Split(new[] { '=' }, 2)).Where(p => p.Length == 2)
                .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.Ordinal);
            if (!parts.TryGetValue("desired", out var desired) || !int.TryParse(desired, NumberStyles.Integer, CultureInfo.InvariantCulture, out var d)) return null;
            if (!parts.TryGetValue("max", out var max) || !int.TryParse(max, NumberStyles.Integer, CultureInfo.InvariantCulture, out var m)) return null;
            var suspended = parts.TryGetValue("suspended", out var list)
                ? list.Split(',').Select(p => p.Trim()).Where(p => p.Length > 0).ToList()
                : new List<string>();
            return new ScalingRecord(d, m, suspended);
        }
    }
}

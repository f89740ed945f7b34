using System.Text.RegularExpressions;

namespace Rebundle.Naming
{
    /// <summary>
    /// Matches names the PowerShell way (case-insensitive, <c>*</c> and <c>?</c> wildcards)
    /// and suggests the nearest known names when nothing matches.
    /// </summary>
    public static class NameMatcher
    {
        public static bool HasWildcard(string pattern) => pattern.IndexOfAny(new[] { '*', '?' }) >= 0;

        public static bool IsMatch(string name, string pattern)
        {
            if (!HasWildcard(pattern)) return string.Equals(name, pattern, StringComparison.OrdinalIgnoreCase);
            var regex = "^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$";
            return Regex.IsMatch(name, regex, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        }

        public static bool MatchesAny(string name, IReadOnlyCollection<string>? patterns) =>
            patterns == null || patterns.Count == 0 || patterns.Any(p => IsMatch(name, p));

        /// <summary>Up to three known names closest to <paramref name="wanted"/>, nearest first.</summary>
        public static IReadOnlyList<string> Nearest(string wanted, IEnumerable<string> known, int max = 3)
        {
            var lowered = wanted.ToLowerInvariant();
            return known
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .Select(k => (name: k, distance: Distance(lowered, k.ToLowerInvariant()), contains: k.IndexOf(wanted, StringComparison.OrdinalIgnoreCase) >= 0 || wanted.IndexOf(k, StringComparison.OrdinalIgnoreCase) >= 0))
                .Where(c => c.contains || c.distance <= Math.Max(2, wanted.Length / 3))
                .OrderBy(c => c.contains ? 0 : 1).ThenBy(c => c.distance).ThenBy(c => c.name, StringComparer.OrdinalIgnoreCase)
                .Take(max)
                .Select(c => c.name)
                .ToList();
        }

        /// <summary>" Did you mean 'Dev'?" or " Known names: a, b, c." — ready to append to a message.</summary>
        public static string SuggestionText(string wanted, IReadOnlyCollection<string> known)
        {
            var nearest = Nearest(wanted, known);
            if (nearest.Count > 0) return " Did you mean " + string.Join(" or ", nearest.Select(n => "'" + n + "'")) + "?";
            if (known.Count == 0) return " There are none.";
            var listed = known.Take(10).ToList();
            return " Known names: " + string.Join(", ", listed) + (known.Count > listed.Count ? ", …" : "") + ".";
        }

        private static int Distance(string a, string b)
        {
            var previous = new int[b.Length + 1];
            var current = new int[b.Length + 1];
            for (var j = 0; j <= b.Length; j++) previous[j] = j;
            for (var i = 1; i <= a.Length; i++)
            {
                current[0] = i;
                for (var j = 1; j <= b.Length; j++)
                {
                    var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                    current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
                }
                (previous, current) = (current, previous);
            }
            return previous[b.Length];
        }
    }
}

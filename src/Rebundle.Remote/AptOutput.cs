using System.Text.RegularExpressions;

namespace Rebundle.Remote
{
    /// <summary>One package apt changed.</summary>
    public sealed record PackageChange(string Name, string Action, string? Version)
    {
        public override string ToString() => Version == null ? Name : $"{Name} {Version}";
    }

    /// <summary>
    /// Reads what apt-get did from its own output: the "will be upgraded", "NEW packages" and
    /// "kept back" lists it prints before acting, and the version from each "Setting up
    /// name (version) ..." line it prints while configuring.
    /// </summary>
    public static class AptOutput
    {
        public const string Upgraded = "Upgraded";
        public const string Installed = "Installed";

        private static readonly Regex SettingUp = new Regex(@"^Setting up (?<name>[^\s:]+)(:\S+)? \((?<version>[^)]+)\)", RegexOptions.Multiline | RegexOptions.CultureInvariant);

        public static IReadOnlyList<PackageChange> Changes(string output)
        {
            var versions = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match match in SettingUp.Matches(output))
                versions[match.Groups["name"].Value] = match.Groups["version"].Value;

            string? Version(string name) => versions.TryGetValue(name, out var v) ? v : null;
            return List(output, "The following packages will be upgraded:").Select(n => new PackageChange(n, Upgraded, Version(n)))
                .Concat(List(output, "The following NEW packages will be installed:").Select(n => new PackageChange(n, Installed, Version(n))))
                .ToList();
        }

        /// <summary>Packages apt held back (they need new dependencies; <c>apt-get dist-upgrade</c> or an install takes them).</summary>
        public static IReadOnlyList<string> KeptBack(string output) => List(output, "The following packages have been kept back:");

        /// <summary>The names listed, indented, under <paramref name="header"/>; architecture suffixes dropped.</summary>
        private static IReadOnlyList<string> List(string output, string header)
        {
            var names = new List<string>();
            var inList = false;
            foreach (var raw in output.Replace("\r", "").Split('\n'))
            {
                if (raw.StartsWith(header, StringComparison.Ordinal))
                {
                    inList = true;
                    continue;
                }

                if (!inList) continue;
                if (!raw.StartsWith(" ", StringComparison.Ordinal))
                {
                    inList = false;
                    continue;
                }

                names.AddRange(raw.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries).Select(n => n.Split(':')[0]));
            }

            return names.Distinct(StringComparer.Ordinal).ToList();
        }
    }
}

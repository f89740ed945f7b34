using System.Text.RegularExpressions;
using Rebundle.Errors;

namespace Rebundle.Domain
{
    /// <summary>
    /// A role name split into its base name and optional version:
    /// <c>RailsAppServer-2-5</c> is base <c>RailsAppServer</c> at version <c>2-5</c>;
    /// <c>RailsAppServer</c> is a production (unversioned) role. Only the last two
    /// dash-separated numbers are the version, so <c>Node12-1-3</c> is base <c>Node12</c>
    /// and <c>Web-2</c> is an unversioned role named <c>Web-2</c>.
    /// </summary>
    public sealed class RoleName : IEquatable<RoleName>
    {
        // Greedy base: only the final "-X-Y" pair can be the version.
        private static readonly Regex Versioned = new Regex(@"^(?<base>.*[^-])-(?<major>\d{1,6})-(?<minor>\d{1,6})$", RegexOptions.CultureInvariant);
        private static readonly Regex Valid = new Regex(@"^[A-Za-z0-9][A-Za-z0-9_.-]*$", RegexOptions.CultureInvariant);

        public RoleName(string baseName, RoleVersion? version)
        {
            if (!IsValidBase(baseName))
                throw new TtmException(TtmErrorCode.RoleNameMalformed,
                    $"'{baseName}' is not a role name. Use letters, digits, '.', '_' and '-', starting with a letter or digit.", baseName);
            BaseName = baseName;
            Version = version;
        }

        public string BaseName { get; }

        public RoleVersion? Version { get; }

        public bool IsVersioned => Version != null;

        public string FullName => Version == null ? BaseName : BaseName + "-" + Version;

        public RoleName WithVersion(RoleVersion version) => new RoleName(BaseName, version);

        public static RoleName Parse(string? name)
        {
            var text = (name ?? string.Empty).Trim();
            if (text.Length == 0)
                throw new TtmException(TtmErrorCode.RoleNameMalformed, "A role name is required, such as 'RailsAppServer' or 'RailsAppServer-2-5'.");
            var match = Versioned.Match(text);
            if (match.Success)
            {
                return new RoleName(match.Groups["base"].Value,
                    new RoleVersion(int.Parse(match.Groups["major"].Value), int.Parse(match.Groups["minor"].Value)));
            }
            return new RoleName(text, null);
        }

        /// <summary>The base name of any role name: <c>RailsAppServer-2-6</c> → <c>RailsAppServer</c>.</summary>
        public static string BaseOf(string name) => Parse(name).BaseName;

        private static bool IsValidBase(string? name) => !string.IsNullOrEmpty(name) && Valid.IsMatch(name) && !name!.EndsWith("-", StringComparison.Ordinal);

        public bool Equals(RoleName? other) => other is not null && string.Equals(FullName, other.FullName, StringComparison.OrdinalIgnoreCase);

        public override bool Equals(object? obj) => Equals(obj as RoleName);

        public override int GetHashCode() => StringComparer.OrdinalIgnoreCase.GetHashCode(FullName);

        public override string ToString() => FullName;
    }
}

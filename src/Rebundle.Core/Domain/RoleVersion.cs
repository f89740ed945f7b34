using System.Globalization;
using System.Text.RegularExpressions;
using Rebundle.Errors;

namespace Rebundle.Domain
{
    /// <summary>
    /// A role version <c>X-Y</c>: X is the major number (bumped for OS changes such as
    /// Ubuntu 12.04 to 14.04), Y the minor. <c>2-5</c> is followed by <c>2-6</c>, or by
    /// <c>3-0</c> for a major bump. A role with no versions yet starts at <c>1-0</c>.
    /// </summary>
    public sealed class RoleVersion : IComparable<RoleVersion>, IEquatable<RoleVersion>
    {
        private static readonly Regex Pattern = new Regex(@"^(?<major>\d{1,6})-(?<minor>\d{1,6})$", RegexOptions.CultureInvariant);

        public static readonly RoleVersion Initial = new RoleVersion(1, 0);

        public RoleVersion(int major, int minor)
        {
            if (major < 0 || minor < 0)
                throw new TtmException(TtmErrorCode.VersionMalformed, $"A role version has no negative numbers; got {major}-{minor}.");
            Major = major;
            Minor = minor;
        }

        public int Major { get; }

        public int Minor { get; }

        public RoleVersion NextMinor() => new RoleVersion(Major, Minor + 1);

        public RoleVersion NextMajor() => new RoleVersion(Major + 1, 0);

        public RoleVersion Next(bool major) => major ? NextMajor() : NextMinor();

        public static RoleVersion Parse(string? text)
        {
            if (TryParse(text, out var version)) return version!;
            throw new TtmException(
                TtmErrorCode.VersionMalformed,
                $"'{text}' is not a role version. A version is two whole numbers joined by a dash, major first, such as '2-5'.",
                text);
        }

        public static bool TryParse(string? text, out RoleVersion? version)
        {
            version = null;
            if (text == null) return false;
            var match = Pattern.Match(text.Trim());
            if (!match.Success) return false;
            version = new RoleVersion(
                int.Parse(match.Groups["major"].Value, CultureInfo.InvariantCulture),
                int.Parse(match.Groups["minor"].Value, CultureInfo.InvariantCulture));
            return true;
        }

        public int CompareTo(RoleVersion? other)
        {
            if (other is null) return 1;
            var byMajor = Major.CompareTo(other.Major);
            return byMajor != 0 ? byMajor : Minor.CompareTo(other.Minor);
        }

        public bool Equals(RoleVersion? other) => other is not null && Major == other.Major && Minor == other.Minor;

        public override bool Equals(object? obj) => Equals(obj as RoleVersion);

        public override int GetHashCode() => (Major * 397) ^ Minor;

        public override string ToString() => Major.ToString(CultureInfo.InvariantCulture) + "-" + Minor.ToString(CultureInfo.InvariantCulture);

        public static bool operator <(RoleVersion a, RoleVersion b) => a.CompareTo(b) < 0;

        public static bool operator >(RoleVersion a, RoleVersion b) => a.CompareTo(b) > 0;
    }
}

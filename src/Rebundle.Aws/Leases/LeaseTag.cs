using System.Globalization;
using Rebundle.Safety;

namespace Rebundle.Aws
{
    /// <summary>
    /// The value of a <c>ttm:lease</c> tag: <c>token;user@host;pid;since;expires;purpose</c>,
    /// e.g. <c>3f9a0c1be2d4;alice@build-7;4242;2026-01-01T09:00:00Z;2026-01-01T09:10:00Z;Invoke-TtmRecycle Dev</c>.
    /// Plain text rather than JSON so it reads well in the console's tag column. The token tells
    /// one holder from another (two sessions of one user on one host are still two holders);
    /// the purpose comes last, so it may hold any character, and is cut to fit EC2's 256.
    /// </summary>
    internal sealed class LeaseTag
    {
        public const int MaxLength = 256; // EC2's limit for a tag value
        private const int MaxName = 64;
        private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";

        public LeaseTag(string token, LeaseHolder holder)
        {
            Token = token;
            Holder = holder;
        }

        public string Token { get; }

        public LeaseHolder Holder { get; }

        /// <summary>Live until its expiry; a tag without one (never written by Rebundle) counts as lapsed.</summary>
        public bool IsLiveAt(DateTimeOffset now) => Holder.Expires is DateTimeOffset expires && expires > now;

        public string Format()
        {
            var head = string.Join(";",
                Token,
                Clean(Holder.User) + "@" + Clean(Holder.Host),
                Holder.ProcessId.ToString(CultureInfo.InvariantCulture),
                Time(Holder.Since),
                Holder.Expires is DateTimeOffset expires ? Time(expires) : "") + ";";
            var room = MaxLength - head.Length;
            var purpose = Holder.Purpose.Length <= room ? Holder.Purpose : Holder.Purpose.Substring(0, room - 1) + "…";
            return head + purpose;
        }

        /// <summary>The lease a tag value describes, or null when it is not one Rebundle wrote.</summary>
        public static LeaseTag? Parse(string? value)
        {
            var parts = value?.Split(new[] { ';' }, 6);
            if (parts == null || parts.Length != 6 || parts[0].Length == 0) return null;
            var at = parts[1].LastIndexOf('@');
            if (at < 0
                || !int.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var processId)
                || !TryTime(parts[3], out var since)
                || !TryTime(parts[4], out var expires))
                return null;
            return new LeaseTag(parts[0], new LeaseHolder
            {
                User = parts[1].Substring(0, at),
                Host = parts[1].Substring(at + 1),
                ProcessId = processId,
                Since = since,
                Expires = expires,
                Purpose = parts[5],
            });
        }

        /// <summary>A fresh holder token: 12 hex digits, unique enough among the runs of one fleet.</summary>
        public static string NewToken() => Guid.NewGuid().ToString("N").Substring(0, 12);

        // The separators may not appear inside a field; names are cut so the purpose keeps some room.
        private static string Clean(string name)
        {
            var clean = name.Replace(';', '_').Replace('@', '_');
            return clean.Length <= MaxName ? clean : clean.Substring(0, MaxName);
        }

        private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

        private static bool TryTime(string text, out DateTimeOffset at) =>
            DateTimeOffset.TryParseExact(text, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at);
    }
}

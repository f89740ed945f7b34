using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Rebundle.Remote
{
    /// <summary>How a presented host key stands against a known_hosts file.</summary>
    public enum HostKeyMatch
    {
        /// <summary>The host is listed with this key.</summary>
        Known,

        /// <summary>The host is not listed at all.</summary>
        Unknown,

        /// <summary>The host is listed, but only with other keys: the key changed.</summary>
        Changed,

        /// <summary>The key is marked <c>@revoked</c>.</summary>
        Revoked,
    }

    /// <summary>
    /// An OpenSSH known_hosts file, parsed: plain host patterns (with <c>*</c>, <c>?</c> and
    /// <c>!</c> negation), <c>[host]:port</c> names for other ports, hashed <c>|1|salt|hash</c>
    /// names, and the <c>@revoked</c> marker (<c>@cert-authority</c> lines are skipped: host
    /// certificates are not supported).
    /// </summary>
    public sealed class KnownHosts
    {
        private readonly IReadOnlyList<Entry> _entries;

        private KnownHosts(IReadOnlyList<Entry> entries) => _entries = entries;

        public static KnownHosts Empty { get; } = new KnownHosts(Array.Empty<Entry>());

        /// <summary>The name known_hosts uses: <c>host</c> on port 22, else <c>[host]:port</c>.</summary>
        public static string HostName(string address, int port) => port == 22 ? address : $"[{address}]:{port}";

        /// <summary>The line that records <paramref name="blob"/> as the key of the host.</summary>
        public static string Line(string address, int port, byte[] blob) =>
            $"{HostName(address, port)} {SshKeyBlob.KeyType(blob)} {Convert.ToBase64String(blob)}";

        public static KnownHosts Parse(string? text)
        {
            if (string.IsNullOrEmpty(text)) return Empty;
            var entries = new List<Entry>();
            var lineNumber = 0;
            foreach (var raw in text!.Split('\n'))
            {
                lineNumber++;
                var line = raw.Trim();
                if (line.Length == 0 || line[0] == '#') continue;
                var fields = Regex.Split(line, @"\s+");
                var marker = "";
                if (fields[0].StartsWith("@", StringComparison.Ordinal))
                {
                    marker = fields[0];
                    fields = fields.Skip(1).ToArray();
                }

                if (fields.Length < 3 || marker == "@cert-authority") continue;
                byte[] blob;
                try
                {
                    blob = Convert.FromBase64String(fields[2]);
                }
                catch (FormatException)
                {
                    continue; // a damaged line matches nothing, like in OpenSSH
                }

                entries.Add(new Entry(lineNumber, fields[0], blob, marker == "@revoked"));
            }

            return new KnownHosts(entries);
        }

        /// <summary>Checks the key a host presented. <paramref name="lineNumber"/> is the deciding line (0 when none).</summary>
        public HostKeyMatch Check(string address, int port, byte[] blob, out int lineNumber)
        {
            var name = HostName(address, port);
            lineNumber = 0;
            var revoked = _entries.FirstOrDefault(e => e.Revoked && e.Blob.SequenceEqual(blob));
            if (revoked != null)
            {
                lineNumber = revoked.LineNumber;
                return HostKeyMatch.Revoked;
            }

            var forHost = _entries.Where(e => !e.Revoked && HostsMatch(e.Hosts, name)).ToList();
            var same = forHost.FirstOrDefault(e => e.Blob.SequenceEqual(blob));
            if (same != null)
            {
                lineNumber = same.LineNumber;
                return HostKeyMatch.Known;
            }

            if (forHost.Count == 0) return HostKeyMatch.Unknown;
            lineNumber = forHost[0].LineNumber;
            return HostKeyMatch.Changed;
        }

        /// <summary>Does a known_hosts host field (comma list or hashed name) match <paramref name="name"/>?</summary>
        internal static bool HostsMatch(string hosts, string name)
        {
            if (hosts.StartsWith("|1|", StringComparison.Ordinal)) return HashedMatches(hosts, name);
            var matched = false;
            foreach (var pattern in hosts.Split(','))
            {
                if (pattern.StartsWith("!", StringComparison.Ordinal))
                {
                    if (Wildcard(pattern.Substring(1), name)) return false; // a negated match wins
                }
                else if (Wildcard(pattern, name))
                {
                    matched = true;
                }
            }

            return matched;
        }

        private static bool HashedMatches(string hashed, string name)
        {
            var parts = hashed.Split('|'); // "", "1", salt, hash
            if (parts.Length != 4) return false;
            try
            {
                using var hmac = new HMACSHA1(Convert.FromBase64String(parts[2]));
                var expected = Convert.FromBase64String(parts[3]);
                return hmac.ComputeHash(Encoding.UTF8.GetBytes(name)).SequenceEqual(expected);
            }
            catch (FormatException)
            {
                return false;
            }
        }

        private static bool Wildcard(string pattern, string name)
        {
            var regex = "^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$";
            return Regex.IsMatch(name, regex, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        }

        private sealed record Entry(int LineNumber, string Hosts, byte[] Blob, bool Revoked);
    }
}

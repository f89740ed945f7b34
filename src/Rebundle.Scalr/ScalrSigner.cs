using System.Globalization;
using System.Runtime.InteropServices;
using System.Security;
using System.Security.Cryptography;
using System.Text;

namespace Rebundle.Scalr
{
    /// <summary>
    /// Scalr's APIv2 request signature (V1-HMAC-SHA256). The string to sign is
    /// <c>METHOD\nX-Scalr-Date\npath\ncanonical query\nbody</c>; the signature is the base64
    /// HMAC-SHA256 of it under the secret key. The canonical query is every parameter,
    /// name and value percent-encoded (RFC 3986), sorted by name then value, joined with
    /// '&amp;'. The client sends exactly that query, so signer and server agree byte for byte.
    /// </summary>
    public static class ScalrSigner
    {
        public const string Scheme = "V1-HMAC-SHA256";
        public const string KeyIdHeader = "X-Scalr-Key-Id";
        public const string DateHeader = "X-Scalr-Date";
        public const string SignatureHeader = "X-Scalr-Signature";

        /// <summary>The X-Scalr-Date value: ISO 8601 in UTC, e.g. <c>2016-04-01T12:00:00Z</c>.</summary>
        public static string FormatDate(DateTimeOffset time) =>
            time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

        /// <summary>The canonical form of a raw query string (with or without the leading '?').</summary>
        public static string CanonicalQuery(string? rawQuery) => CanonicalQuery(ParseQuery(rawQuery));

        public static string CanonicalQuery(IEnumerable<KeyValuePair<string, string>> parameters) =>
            string.Join("&", parameters
                .Select(p => (name: Encode(p.Key), value: Encode(p.Value)))
                .OrderBy(p => p.name, StringComparer.Ordinal)
                .ThenBy(p => p.value, StringComparer.Ordinal)
                .Select(p => p.name + "=" + p.value));

        /// <summary>Splits a raw query into decoded name/value pairs ('+' is a space, as forms send it).</summary>
        public static IReadOnlyList<KeyValuePair<string, string>> ParseQuery(string? rawQuery)
        {
            var text = (rawQuery ?? "").TrimStart('?');
            var pairs = new List<KeyValuePair<string, string>>();
            foreach (var part in text.Split(new[] { '&' }, StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = part.IndexOf('=');
                var name = equals < 0 ? part : part.Substring(0, equals);
                var value = equals < 0 ? "" : part.Substring(equals + 1);
                pairs.Add(new KeyValuePair<string, string>(Decode(name), Decode(value)));
            }
            return pairs;
        }

        public static string StringToSign(string method, string date, string path, string canonicalQuery, string body) =>
            method.ToUpperInvariant() + "\n" + date + "\n" + path + "\n" + canonicalQuery + "\n" + body;

        /// <summary>The value of the X-Scalr-Signature header.</summary>
        public static string Signature(SecureString secret, string stringToSign) => Scheme + " " + Sign(secret, stringToSign);

        /// <summary>
        /// Base64 HMAC-SHA256 of <paramref name="stringToSign"/>. The secret is copied out of the
        /// SecureString only for the duration of this call, and the copies are wiped.
        /// </summary>
        public static string Sign(SecureString secret, string stringToSign)
        {
            var key = SecretBytes(secret);
            try
            {
                using var hmac = new HMACSHA256(key);
                return Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(stringToSign)));
            }
            finally
            {
                Array.Clear(key, 0, key.Length);
            }
        }

        private static byte[] SecretBytes(SecureString secret)
        {
            var pointer = IntPtr.Zero;
            var chars = new char[secret.Length];
            try
            {
                pointer = Marshal.SecureStringToGlobalAllocUnicode(secret);
                Marshal.Copy(pointer, chars, 0, chars.Length);
                return Encoding.UTF8.GetBytes(chars);
            }
            finally
            {
                Array.Clear(chars, 0, chars.Length);
                if (pointer != IntPtr.Zero) Marshal.ZeroFreeGlobalAllocUnicode(pointer);
            }
        }

        /// <summary>RFC 3986 percent-encoding: only A-Z a-z 0-9 - . _ ~ stay as they are.</summary>
        public static string Encode(string text) => Uri.EscapeDataString(text);

        private static string Decode(string text) => Uri.UnescapeDataString(text.Replace('+', ' '));
    }
}

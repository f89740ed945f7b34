using System.Globalization;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;
using Amazon.Runtime;

namespace Rebundle.Aws.Query
{
    /// <summary>
    /// AWS Signature Version 4 for a Query POST: the canonical request over method, path, the
    /// signed headers (host, x-amz-date, and the session token when there is one) and the body's
    /// hash, signed with the key derived for day/region/service. Written out (60 lines) rather
    /// than through AWSSDK.Core's internal AWS4Signer, whose types are not a public contract.
    /// </summary>
    internal static class QuerySigner
    {
        public static void Sign(HttpRequestMessage request, byte[] body, ImmutableCredentials credentials, string region, string service, DateTime utcNow)
        {
            var uri = request.RequestUri!;
            var amzDate = utcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
            var day = amzDate.Substring(0, 8);
            var host = uri.IsDefaultPort ? uri.Host : uri.Host + ":" + uri.Port.ToString(CultureInfo.InvariantCulture);
            var headers = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["host"] = host, ["x-amz-date"] = amzDate };
            if (credentials.UseToken) headers["x-amz-security-token"] = credentials.Token;
            var signedHeaders = string.Join(";", headers.Keys);

            var canonical = string.Join("\n",
                "POST",
                CanonicalPath(uri.AbsolutePath),
                "", // no query string: every parameter is in the body
                string.Concat(headers.Select(h => h.Key + ":" + h.Value.Trim() + "\n")),
                signedHeaders,
                Hex(Sha256(body)));
            var scope = $"{day}/{region}/{service}/aws4_request";
            var stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(Sha256(Encoding.UTF8.GetBytes(canonical)))}";
            var key = Encoding.UTF8.GetBytes("AWS4" + credentials.SecretKey);
            foreach (var part in new[] { day, region, service, "aws4_request" }) key = Hmac(key, part);
            var signature = Hex(Hmac(key, stringToSign));

            request.Headers.Host = host;
            request.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
            if (credentials.UseToken) request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", credentials.Token);
            request.Headers.TryAddWithoutValidation("Authorization",
                $"AWS4-HMAC-SHA256 Credential={credentials.AccessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}");
        }

        private static string CanonicalPath(string path) =>
            string.IsNullOrEmpty(path) ? "/" : string.Join("/", path.Split('/').Select(s => Uri.EscapeDataString(Uri.UnescapeDataString(s))));

        private static byte[] Sha256(byte[] data)
        {
            using var sha = SHA256.Create();
            return sha.ComputeHash(data);
        }

        private static byte[] Hmac(byte[] key, string data)
        {
            using var hmac = new HMACSHA256(key);
            return hmac.ComputeHash(Encoding.UTF8.GetBytes(data));
        }

        private static string Hex(byte[] bytes)
        {
            var text = new StringBuilder(bytes.Length * 2);
            foreach (var b in bytes) text.Append(b.ToString("x2", CultureInfo.InvariantCulture));
            return text.ToString();
        }
    }
}

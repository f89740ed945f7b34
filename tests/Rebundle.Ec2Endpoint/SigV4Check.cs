using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Rebundle.Ec2Endpoint;

/// <summary>An HTTP request as it arrived, with what SigV4 signs: method, path, query, headers, body.</summary>
public sealed record SignedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;
}

/// <summary>
/// Verifies AWS Signature Version 4 as EC2 does: the access key must be known, the credential
/// scope must name the request's day, the endpoint's region and ec2, the request time must be
/// within 15 minutes of the endpoint's clock, and the signature must be the HMAC of the
/// canonical request (signed headers, query, body hash) under the key's secret.
/// Codes and statuses are EC2's: AuthFailure 401, SignatureDoesNotMatch 403, RequestExpired 400.
/// </summary>
public static class SigV4Check
{
    public static readonly TimeSpan AllowedSkew = TimeSpan.FromMinutes(15);

    private static readonly Regex Header = new(
        @"^AWS4-HMAC-SHA256 Credential=(?<key>[^/,\s]+)/(?<day>\d{8})/(?<region>[^/,\s]+)/(?<service>[^/,\s]+)/aws4_request,\s*SignedHeaders=(?<headers>[a-z0-9\-;]+),\s*Signature=(?<signature>[0-9a-f]{64})$");

    /// <summary>The access key a request is signed with, or null when it is not signed.</summary>
    public static string? AccessKeyOf(SignedRequest request)
    {
        var match = Header.Match(request.Header("authorization") ?? "");
        return match.Success ? match.Groups["key"].Value : null;
    }

    /// <summary>The service a request's credential scope names (ec2, sts, elasticloadbalancing), or null when it is not signed: the one URL routes by it.</summary>
    public static string? ServiceOf(SignedRequest request)
    {
        var match = Header.Match(request.Header("authorization") ?? "");
        return match.Success ? match.Groups["service"].Value : null;
    }

    /// <param name="service">The service the credential scope must name: ec2, or sts for AssumeRole.</param>
    public static void Verify(SignedRequest request, Ec2Settings settings, string service = "ec2")
    {
        var match = Header.Match(request.Header("authorization") ?? "");
        if (!match.Success)
            throw new Ec2Error("AuthFailure", "The request is not signed with AWS Signature Version 4.", 401);
        var key = match.Groups["key"].Value;
        if (!settings.Secrets.TryGetValue(key, out var secret))
            throw new Ec2Error("AuthFailure", "AWS was not able to validate the provided access credentials", 401);
        // Temporary keys from STS are valid only with the session token issued with them.
        if (settings.SessionTokens.TryGetValue(key, out var token) && request.Header("x-amz-security-token") != token)
            throw new Ec2Error("AuthFailure", "AWS was not able to validate the provided access credentials (temporary keys need their session token).", 401);

        var amzDate = request.Header("x-amz-date");
        if (amzDate == null || !DateTimeOffset.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var signedAt))
            throw new Ec2Error("AuthFailure", "AWS was not able to validate the provided access credentials (no valid X-Amz-Date header).", 401);
        var now = settings.SignatureClock();
        if ((now - signedAt).Duration() > AllowedSkew)
            throw new Ec2Error("RequestExpired", $"Request has expired. Signed at {amzDate}, the endpoint's time is {now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}: more than 15 minutes apart.", 400);

        var day = match.Groups["day"].Value;
        if (day != amzDate.Substring(0, 8))
            throw Mismatch($"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{day}' != '{amzDate.Substring(0, 8)}'.");
        if (match.Groups["region"].Value != settings.Region)
            throw Mismatch($"Credential should be scoped to a valid region, not '{match.Groups["region"].Value}'.");
        if (match.Groups["service"].Value != service)
            throw Mismatch($"Credential should be scoped to correct service: '{service}'.");

        var signedHeaders = match.Groups["headers"].Value;
        if (!signedHeaders.Split(';').Contains("host"))
            throw Mismatch("'Host' must be a 'SignedHeader' in the AWS Authorization.");
        var canonical = CanonicalRequest(request, signedHeaders);
        var scope = $"{day}/{settings.Region}/{service}/aws4_request";
        var stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var signingKey = new[] { day, settings.Region, service, "aws4_request" }
            .Aggregate(Encoding.UTF8.GetBytes("AWS4" + secret), (k, part) => HMACSHA256.HashData(k, Encoding.UTF8.GetBytes(part)));
        var expected = Hex(HMACSHA256.HashData(signingKey, Encoding.UTF8.GetBytes(stringToSign)));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(match.Groups["signature"].Value)))
            throw Mismatch("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
    }

    private static Ec2Error Mismatch(string message) => new("SignatureDoesNotMatch", message, 403);

    /// <summary>The canonical request: method, path, sorted query, signed headers, and the body's own hash (not the one claimed).</summary>
    public static string CanonicalRequest(SignedRequest request, string signedHeaders)
    {
        var headers = signedHeaders.Split(';').Select(h => h + ":" + Regex.Replace((request.Header(h) ?? "").Trim(), @"\s+", " ") + "\n");
        return string.Join("\n",
            request.Method.ToUpperInvariant(),
            CanonicalPath(request.Path),
            CanonicalQuery(request.Query),
            string.Concat(headers),
            signedHeaders,
            PayloadHash(request));
    }

    /// <summary>
    /// The body's own hash; S3 signs what x-amz-content-sha256 says instead, which may be
    /// UNSIGNED-PAYLOAD (a claimed hash is checked against the body all the same).
    /// </summary>
    private static string PayloadHash(SignedRequest request)
    {
        var claimed = request.Header("x-amz-content-sha256");
        return claimed == "UNSIGNED-PAYLOAD" ? claimed : Hex(SHA256.HashData(request.Body));
    }

    private static string CanonicalPath(string path) =>
        string.IsNullOrEmpty(path) ? "/" : string.Join("/", path.Split('/').Select(Uri.EscapeDataString));

    private static string CanonicalQuery(string query)
    {
        if (string.IsNullOrEmpty(query) || query == "?") return "";
        return string.Join("&", query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .Select(p => (Key: Uri.EscapeDataString(Uri.UnescapeDataString(p[0])), Value: Uri.EscapeDataString(Uri.UnescapeDataString(p.Length > 1 ? p[1] : ""))))
            .OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => p.Key + "=" + p.Value));
    }

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}

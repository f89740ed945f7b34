using System.Security;
using Rebundle.Errors;

namespace Rebundle.Scalr
{
    /// <summary>
    /// Where the Scalr environment is and how to sign requests to it, plus the AWS settings
    /// used for snapshots (EC2 CreateImage). The secret stays a <see cref="SecureString"/>;
    /// it is read only while a request is being signed.
    /// </summary>
    public sealed class ScalrConnectionOptions
    {
        public const string UrlVariable = "SCALR_URL";
        public const string KeyIdVariable = "SCALR_KEY_ID";
        public const string SecretVariable = "SCALR_SECRET";
        public const string EnvironmentIdVariable = "SCALR_ENV_ID";

        /// <summary>The Scalr server, e.g. <c>https://my.scalr.com</c>.</summary>
        public Uri? Url { get; set; }

        /// <summary>The API key id (sent in X-Scalr-Key-Id).</summary>
        public string KeyId { get; set; } = "";

        /// <summary>The API secret key; never printed.</summary>
        public SecureString? Secret { get; set; }

        /// <summary>The environment every route is scoped to (<c>/api/v1beta0/user/{envId}/</c>).</summary>
        public string EnvironmentId { get; set; } = "";

        /// <summary>The AWS region for CreateImage; default: the server's cloud location.</summary>
        public string? AwsRegion { get; set; }

        /// <summary>A profile from the shared AWS credentials file; default: the SDK's credential chain.</summary>
        public string? AwsProfileName { get; set; }

        /// <summary>Any EC2-compatible endpoint (a test endpoint, a VPC endpoint).</summary>
        public string? Ec2EndpointUrl { get; set; }

        /// <summary>How often waits ask again; default 5 seconds.</summary>
        public TimeSpan? PollInterval { get; set; }

        /// <summary>How long one HTTP request may take before it is abandoned; default 60 seconds.</summary>
        public TimeSpan? RequestTimeout { get; set; }

        /// <summary>How many times a 429 or 5xx answer (or a lost answer, once checked) is retried before giving up; default 4.</summary>
        public int MaxRetries { get; set; } = 4;

        /// <summary>
        /// How long in all to keep sleeping and retrying while Scalr answers 403 LimitExceeded
        /// (its rate limit) before reporting TtmThrottled; default 3 minutes.
        /// </summary>
        public TimeSpan ThrottleBudget { get; set; } = TimeSpan.FromMinutes(3);

        /// <summary>
        /// Fills the values left empty from SCALR_URL, SCALR_KEY_ID, SCALR_SECRET and
        /// SCALR_ENV_ID. Values already set win. <paramref name="read"/> defaults to the
        /// process environment (tests pass their own).
        /// </summary>
        public ScalrConnectionOptions WithEnvironmentDefaults(Func<string, string?>? read = null)
        {
            read ??= Environment.GetEnvironmentVariable;
            if (Url == null)
            {
                var text = read(UrlVariable);
                if (!string.IsNullOrWhiteSpace(text))
                {
                    if (!Uri.TryCreate(text!.Trim(), UriKind.Absolute, out var url))
                        throw new TtmException(TtmErrorCode.InvalidArgument, $"{UrlVariable} is not an absolute URL such as https://my.scalr.com.", UrlVariable);
                    Url = url;
                }
            }
            if (string.IsNullOrWhiteSpace(KeyId)) KeyId = read(KeyIdVariable)?.Trim() ?? "";
            if (string.IsNullOrWhiteSpace(EnvironmentId)) EnvironmentId = read(EnvironmentIdVariable)?.Trim() ?? "";
            if (Secret == null || Secret.Length == 0)
            {
                var secret = read(SecretVariable);
                if (!string.IsNullOrEmpty(secret)) Secret = ToSecureString(secret!);
            }
            return this;
        }

        /// <summary>Checks that everything needed to connect is there; names what is missing.</summary>
        public void Validate()
        {
            var missing = new List<string>();
            if (Url == null) missing.Add($"-Url (or {UrlVariable})");
            if (string.IsNullOrWhiteSpace(KeyId)) missing.Add($"-KeyId (or {KeyIdVariable})");
            if (Secret == null || Secret.Length == 0) missing.Add($"-Secret (or {SecretVariable})");
            if (string.IsNullOrWhiteSpace(EnvironmentId)) missing.Add($"-EnvironmentId (or {EnvironmentIdVariable})");
            if (missing.Count > 0)
                throw new TtmException(TtmErrorCode.InvalidArgument, "Connecting to Scalr needs " + string.Join(", ", missing) + ".", "Scalr");
            // A string PowerShell could not read as an absolute URL binds as a relative one, which has no scheme to ask.
            if (!Url!.IsAbsoluteUri)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"-Url must be an absolute http or https URL such as https://my.scalr.com; got '{ShownUrl}'.", ShownUrl);
            if (Url.Scheme != Uri.UriSchemeHttps && Url.Scheme != Uri.UriSchemeHttp)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"-Url must be an http or https URL; got '{ShownUrl}'.", ShownUrl);
            // A password in the URL would be shown in verbose output, errors, Get-TtmFleet and the
            // audit log; Scalr signs with the key anyway. The message names neither it nor the URL.
            if (Url.UserInfo.Length > 0)
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    $"-Url (or {UrlVariable}) must not contain a user name or password (user:password@); they would be shown and logged. " +
                    $"Give the URL without them, e.g. {ShownUrl}, and sign in with -KeyId and -Secret.", ShownUrl);
            if (Ec2EndpointUrl != null && (!Uri.TryCreate(Ec2EndpointUrl, UriKind.Absolute, out var parsed) || (parsed.Scheme != Uri.UriSchemeHttps && parsed.Scheme != Uri.UriSchemeHttp)))
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    "-Ec2EndpointUrl must be an absolute http or https URL such as http://127.0.0.1:4566/" + (Ec2EndpointUrl.Contains("@") ? "." : $"; got '{Ec2EndpointUrl}'."), "Ec2EndpointUrl");
            if (Ec2EndpointUrl != null && Uri.TryCreate(Ec2EndpointUrl, UriKind.Absolute, out var ec2) && ec2.UserInfo.Length > 0)
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    $"-Ec2EndpointUrl must not contain a user name or password (user:password@); give it without them, e.g. {WithoutUserInfo(ec2)}, and AWS credentials through -AwsProfileName or the SDK's chain.",
                    WithoutUserInfo(ec2));
            if (AwsRegion != null) Aws.Ec2.AwsRegionName.Require(AwsRegion, "-AwsRegion");
            foreach (var c in EnvironmentId)
            {
                if (!char.IsDigit(c))
                    throw new TtmException(TtmErrorCode.InvalidArgument, $"-EnvironmentId is the number of a Scalr environment; got '{EnvironmentId}'.", EnvironmentId);
            }
        }

        /// <summary>The URL as shown and logged: never with a user name or password.</summary>
        public string ShownUrl => Url == null ? "" : WithoutUserInfo(Url);

        /// <summary>Never shows the secret.</summary>
        public override string ToString() => $"Scalr {ShownUrl} environment {EnvironmentId} key {KeyId}";

        // A URL whose @ is not in user info .NET can take out ("ops:secret@scalr" is an absolute URL
        // of scheme "ops"; a relative one has no user info at all) may carry a password: not shown.
        internal static string WithoutUserInfo(Uri url) =>
            url.IsAbsoluteUri && url.UserInfo.Length > 0 ? new UriBuilder(url) { UserName = "", Password = "" }.Uri.ToString()
            : url.OriginalString.Contains("@") ? "(a URL with an @ in it, not shown)"
            : url.IsAbsoluteUri ? url.ToString() : url.OriginalString;

        internal static SecureString ToSecureString(string text)
        {
            var secure = new SecureString();
            foreach (var c in text) secure.AppendChar(c);
            secure.MakeReadOnly();
            return secure;
        }
    }
}

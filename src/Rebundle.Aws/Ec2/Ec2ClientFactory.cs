using Amazon;
using Amazon.EC2;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Rebundle.Errors;

namespace Rebundle.Aws.Ec2
{
    /// <summary>How Connect-TtmFleet names the EC2 settings, for messages: the AWS backend's or the Scalr backend's.</summary>
    public sealed class Ec2Parameters
    {
        public static readonly Ec2Parameters Aws = new Ec2Parameters("-ProfileName", "-Region", "-EndpointUrl");
        public static readonly Ec2Parameters Scalr = new Ec2Parameters("-AwsProfileName", "-AwsRegion", "-Ec2EndpointUrl");

        private Ec2Parameters(string profile, string region, string endpoint)
        {
            Profile = profile;
            Region = region;
            Endpoint = endpoint;
        }

        public string Profile { get; }
        public string Region { get; }
        public string Endpoint { get; }
    }

    /// <summary>
    /// The one way Rebundle makes an EC2 client, for the AWS backend and for Scalr's snapshots
    /// alike: credentials of a named profile (read afresh from the shared files) or the SDK's
    /// default chain, the SDK's standard retry mode, and a request timeout.
    /// </summary>
    public static class Ec2ClientFactory
    {
        private const int DefaultMaxRetries = 4;

        /// <summary>
        /// Standard mode: exponential backoff with jitter, throttling (RequestLimitExceeded, 503)
        /// and transient network errors retried, a retry quota so an outage is not hammered.
        /// </summary>
        public static AmazonEC2Config Config(int? maxRetries, TimeSpan? timeout) => new AmazonEC2Config
        {
            RetryMode = RequestRetryMode.Standard,
            MaxErrorRetry = maxRetries ?? DefaultMaxRetries,
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        };

        /// <summary>A client for <paramref name="region"/>, at <paramref name="endpointUrl"/> when given.</summary>
        public static IAmazonEC2 Create(string region, string? profileName, string? endpointUrl, Ec2Parameters names, int? maxRetries = null, TimeSpan? timeout = null)
        {
            var config = Config(maxRetries, timeout);
            if (!string.IsNullOrWhiteSpace(endpointUrl))
            {
                config.ServiceURL = endpointUrl;
                config.AuthenticationRegion = region;
            }
            else
            {
                config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
            }
            var credentials = ProfileCredentials(profileName, out _, names);
            return credentials == null ? new AmazonEC2Client(config) : new AmazonEC2Client(credentials, config);
        }

        /// <summary>Credentials of a named profile (null for the SDK's default chain), and the profile's region.</summary>
        public static AWSCredentials? ProfileCredentials(string? profileName, out string? region, Ec2Parameters names)
        {
            region = null;
            if (string.IsNullOrEmpty(profileName)) return null;
            var store = ProfileStore();
            if (!store.TryGetProfile(profileName, out var profile) || !store.TryGetAWSCredentials(profileName, out var credentials))
                throw new TtmException(TtmErrorCode.AccessDenied,
                    $"There is no usable AWS profile named '{profileName}' in the shared credentials or config files (~/.aws/credentials, ~/.aws/config, or AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE). Create it with 'aws configure --profile {profileName}' or pass another {names.Profile}.",
                    profileName);
            region = profile.Region?.SystemName;
            return credentials;
        }

        /// <summary>
        /// The shared credentials/config files. The SDK reads AWS_SHARED_CREDENTIALS_FILE only once
        /// per process, so it is read here on every connect: a session that changes it (or a
        /// test) gets the file it names now.
        /// </summary>
        internal static CredentialProfileStoreChain ProfileStore()
        {
            var credentialsFile = Environment.GetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE");
            return string.IsNullOrWhiteSpace(credentialsFile) ? new CredentialProfileStoreChain() : new CredentialProfileStoreChain(credentialsFile);
        }
    }
}

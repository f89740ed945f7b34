using System;
using System.Threading;
using System.Collections.Generic;
using System.Linq;
using Amazon;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Rebundle.Errors;
using Rebundle.Runbook;

namespace Rebundle.Aws
{
    public sealed partial class AwsBackend
    {
        private static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(5);
        private const int DefaultMaxRetries = 4;

        /// <summary>
        /// Connects to EC2 and proves the connection with one cheap read (a page of Rebundle's
        /// launch templates), so bad credentials or an unreachable endpoint fail here, with a
        /// plain message, rather than in the middle of a runbook step.
        /// </summary>
        public static AwsBackend Connect(AwsConnectionOptions options, IClock? clock = null)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            var credentials = ProfileCredentials(options.ProfileName, out var profileRegion);
            var region = options.Region ?? profileRegion ?? EnvironmentRegion();
            var config = new AmazonEC2Config
            {
                // Standard mode: exponential backoff with jitter, throttling (RequestLimitExceeded,
                // 503) and transient network errors retried, a retry quota so an outage is not hammered.
                RetryMode = RequestRetryMode.Standard,
                MaxErrorRetry = options.MaxRetries ?? DefaultMaxRetries,
                Timeout = options.RequestTimeout ?? TimeSpan.FromSeconds(30),
            };
            string location;
            if (!string.IsNullOrEmpty(options.EndpointUrl))
            {
                if (!Uri.TryCreate(options.EndpointUrl, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != "http" && endpoint.Scheme != "https"))
                    throw new TtmException(TtmErrorCode.InvalidArgument, $"-EndpointUrl '{options.EndpointUrl}' is not an http or https URL.", options.EndpointUrl);
                region ??= "us-east-1";
                config.ServiceURL = endpoint.ToString();
                config.AuthenticationRegion = region;
                // Shown in Get-TtmFleet and messages: never any user:password written into the URL.
                location = $"{region} at {endpoint.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)}";
            }
            else
            {
                if (region == null)
                    throw new TtmException(TtmErrorCode.ConnectionFailed,
                        "No AWS region is known: pass -Region, set AWS_REGION, or put 'region = …' in the profile of ~/.aws/config.");
                config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
                location = region;
            }

            AmazonEC2Client client;
            try
            {
                client = credentials == null ? new AmazonEC2Client(config) : new AmazonEC2Client(credentials, config);
            }
            catch (Exception e)
            {
                throw AwsErrors.Map(e, "Connecting to EC2", location);
            }

            var backend = new AwsBackend(new Ec2Calls(client, location), region, clock ?? SystemClock.Instance, options.PollInterval ?? DefaultPollInterval, LeaseSettings.From(options));
            try
            {
                backend.Probe();
                return backend;
            }
            catch
            {
                backend.Dispose();
                throw;
            }
        }

        /// <summary>Credentials of a named profile (null for the SDK's default chain), and the profile's region.</summary>
        private static AWSCredentials? ProfileCredentials(string? profileName, out string? region)
        {
            region = null;
            if (string.IsNullOrEmpty(profileName)) return null;
            var store = ProfileStore();
            if (!store.TryGetProfile(profileName, out var profile) || !store.TryGetAWSCredentials(profileName, out var credentials))
                throw new TtmException(TtmErrorCode.AccessDenied,
                    $"There is no usable AWS profile named '{profileName}' in the shared credentials or config files (~/.aws/credentials, ~/.aws/config, or AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE). Create it with 'aws configure --profile {profileName}' or name another profile.",
                    profileName);
            region = profile.Region?.SystemName;
            return credentials;
        }

        /// <summary>
        /// The region from AWS_REGION / AWS_DEFAULT_REGION, else from the default profile
        /// (AWS_PROFILE or "default"). Unlike the SDK's own fallback this never asks the instance
        /// metadata service, so a laptop without a region fails at once with a clear message.
        /// </summary>
        /// <summary>
        /// The shared credentials/config files. The SDK reads AWS_SHARED_CREDENTIALS_FILE only once
        /// per process, so it is read here on every connect: a session that changes it (or a
        /// test) gets the file it names now.
        /// </summary>
        private static CredentialProfileStoreChain ProfileStore()
        {
            var credentialsFile = Environment.GetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE");
            return string.IsNullOrWhiteSpace(credentialsFile) ? new CredentialProfileStoreChain() : new CredentialProfileStoreChain(credentialsFile);
        }

        private static string? EnvironmentRegion()
        {
            var fromEnvironment = new[] { "AWS_REGION", "AWS_DEFAULT_REGION" }.Select(Environment.GetEnvironmentVariable).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
            if (fromEnvironment != null) return fromEnvironment;
            var profileName = Environment.GetEnvironmentVariable("AWS_PROFILE");
            return ProfileStore().TryGetProfile(string.IsNullOrWhiteSpace(profileName) ? "default" : profileName, out var profile)
                ? profile.Region?.SystemName
                : null;
        }

        private void Probe()
        {
            _calls.Call("Connecting to EC2", CancellationToken.None, (ec2, cancel) => ec2.DescribeLaunchTemplatesAsync(new DescribeLaunchTemplatesRequest
            {
                Filters = new List<Filter> { TtmTags.Filter("tag:" + TtmTags.Kind, TtmTags.KindRole, TtmTags.KindFarmRole) },
                MaxResults = 5,
            }, cancel));
        }
    }
}

using Amazon;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Rebundle.Aws.Ec2;
using Rebundle.Errors;
using Rebundle.Runbook;

namespace Rebundle.Aws
{
    public sealed partial class AwsBackend
    {
        private static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(5);

        /// <summary>
        /// Connects to EC2 and proves the connection with one cheap read (a page of Rebundle's
        /// launch templates), so bad credentials or an unreachable endpoint fail here, with a
        /// plain message, rather than in the middle of a runbook step.
        /// </summary>
        public static AwsBackend Connect(AwsConnectionOptions options, IClock? clock = null)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            var credentials = Ec2ClientFactory.ProfileCredentials(options.ProfileName, out var profileRegion, Ec2Parameters.Aws);
            var region = options.Region ?? profileRegion ?? EnvironmentRegion();
            if (region != null)
                AwsRegionName.Require(region, options.Region != null ? "-Region" : profileRegion != null ? $"The region of profile {options.ProfileName}" : "The region from AWS_REGION, AWS_DEFAULT_REGION or the default profile");
            var config = Ec2ClientFactory.Config(options.MaxRetries, options.RequestTimeout);
            string location;
            Uri? endpointUrl = null;
            if (!string.IsNullOrEmpty(options.EndpointUrl))
            {
                if (!Uri.TryCreate(options.EndpointUrl, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != "http" && endpoint.Scheme != "https"))
                    throw new TtmException(TtmErrorCode.InvalidArgument, $"-EndpointUrl '{options.EndpointUrl}' is not an http or https URL.", options.EndpointUrl);
                region ??= "us-east-1";
                endpointUrl = endpoint;
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

            // ELBv2 with the same credentials, region, endpoint, retries and timeout (a hand-written
            // Query client: AWSSDK.ElasticLoadBalancingV2 is not served). It sends nothing until asked.
            var elb = new Elb.Elbv2Calls(new Query.AwsQueryClient(Query.AwsQueryService.ElasticLoadBalancingV2, region, endpointUrl, credentials,
                options.MaxRetries, options.RequestTimeout, Ec2Parameters.Aws));
            // Auto Scaling likewise (AWSSDK.AutoScaling is not served either); its calls wait on the backend's clock.
            AutoScaling.AutoScalingCalls AutoScalingOn(IClock on, TimeSpan poll) => new AutoScaling.AutoScalingCalls(
                new Query.AwsQueryClient(Query.AwsQueryService.AutoScaling, region, endpointUrl, credentials, options.MaxRetries, options.RequestTimeout, Ec2Parameters.Aws), on, poll);
            // Systems Manager and S3 (remote work without SSH) on the real SDK clients, made at the first SSM command.
            var ssm = new Ssm.SsmCalls(() => Ssm.SsmClients.Ssm(region, endpointUrl, credentials, options), () => Ssm.SsmClients.S3(region, endpointUrl, credentials, options), location);
            var backend = new AwsBackend(new Ec2Calls(client, location), elb, AutoScalingOn, ssm, region, clock ?? SystemClock.Instance, options.PollInterval ?? DefaultPollInterval, LeaseSettings.From(options));
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

        /// <summary>
        /// The region from AWS_REGION / AWS_DEFAULT_REGION, else from the default profile
        /// (AWS_PROFILE or "default"). Unlike the SDK's own fallback this never asks the instance
        /// metadata service, so a laptop without a region fails at once with a clear message.
        /// </summary>
        private static string? EnvironmentRegion()
        {
            var fromEnvironment = new[] { "AWS_REGION", "AWS_DEFAULT_REGION" }.Select(Environment.GetEnvironmentVariable).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
            if (fromEnvironment != null) return fromEnvironment;
            var profileName = Environment.GetEnvironmentVariable("AWS_PROFILE");
            return Ec2ClientFactory.ProfileStore().TryGetProfile(string.IsNullOrWhiteSpace(profileName) ? "default" : profileName, out var profile)
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

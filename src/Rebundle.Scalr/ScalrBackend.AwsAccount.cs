using System.Text.Json;
using Rebundle.Errors;

namespace Rebundle.Scalr
{
    // Images on Scalr depend on two sets of credentials: the operator's AWS credentials make the
    // AMI (EC2 CreateImage), the environment's own cloud credentials are what Scalr checks it
    // with when it is registered. If they are different accounts, registration would fail late,
    // after the image was made; where it can tell, connect says so first.
    public sealed partial class ScalrBackend
    {
        /// <summary>
        /// With AWS settings given, one of the environment's own EC2 images is looked up with the
        /// operator's credentials. Not seen there: the credentials are another account's, refused
        /// now (TtmConfigInvalid). An environment without images of its own cannot tell: passes.
        /// </summary>
        private void CheckAwsAccountSeesEnvironmentImages()
        {
            if (!_ec2.IsConfigured) return;
            var page = _client.Get("images/", new[]
            {
                new KeyValuePair<string, string>("cloudPlatform", "ec2"),
                new KeyValuePair<string, string>("scope", "environment"),
                new KeyValuePair<string, string>("maxResults", "1"),
            });
            var sample = page.ValueKind == JsonValueKind.Array ? page.EnumerateArray().Select(ScalrImage.From).FirstOrDefault() : null;
            if (sample == null || sample.CloudImageId.Length == 0) return;
            var region = _ec2.RegionFor(sample.CloudLocation);
            if (_ec2.Describe(region, new[] { sample.CloudImageId }, System.Threading.CancellationToken.None).Count > 0) return;
            var credentials = string.IsNullOrWhiteSpace(_options.AwsProfileName) ? "The AWS SDK's default credentials" : $"AWS profile '{_options.AwsProfileName}' (-AwsProfileName)";
            throw new TtmException(TtmErrorCode.ConfigInvalid,
                $"{credentials} cannot see image {sample.CloudImageId}, which Scalr environment {_options.EnvironmentId} has in {region}: they are probably another AWS account than the environment's. " +
                "Snapshots would be made in that account and Scalr, which checks them with the environment's cloud credentials, would refuse to register them. " +
                "Connect with -AwsProfileName for the environment's AWS account, or without AWS settings to read and recycle only.",
                _options.AwsProfileName ?? _options.EnvironmentId);
        }
    }
}

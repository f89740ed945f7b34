using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.SimpleSystemsManagement;

namespace Rebundle.Aws.Ssm
{
    /// <summary>The SSM and S3 clients of a connection: its credentials, region or endpoint, standard retries and timeout, as its EC2 client.</summary>
    internal static class SsmClients
    {
        public static IAmazonSimpleSystemsManagement Ssm(string region, Uri? endpointUrl, AWSCredentials? credentials, AwsConnectionOptions options)
        {
            var config = new AmazonSimpleSystemsManagementConfig
            {
                RetryMode = RequestRetryMode.Standard,
                MaxErrorRetry = options.MaxRetries ?? 4,
                Timeout = options.RequestTimeout ?? TimeSpan.FromSeconds(30),
            };
            if (endpointUrl != null)
            {
                config.ServiceURL = endpointUrl.ToString();
                config.AuthenticationRegion = region;
            }
            else config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
            return credentials == null ? new AmazonSimpleSystemsManagementClient(config) : new AmazonSimpleSystemsManagementClient(credentials, config);
        }

        public static IAmazonS3 S3(string region, Uri? endpointUrl, AWSCredentials? credentials, AwsConnectionOptions options)
        {
            var config = new AmazonS3Config
            {
                RetryMode = RequestRetryMode.Standard,
                MaxErrorRetry = options.MaxRetries ?? 4,
                Timeout = options.RequestTimeout ?? TimeSpan.FromSeconds(30),
            };
            if (endpointUrl != null)
            {
                // One endpoint for every service (the loopback one): path-style, signed for the region given.
                config.ServiceURL = endpointUrl.ToString();
                config.ForcePathStyle = true;
                config.AuthenticationRegion = region;
            }
            else config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
            return credentials == null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
        }
    }
}

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
            var config = Configured(new AmazonSimpleSystemsManagementConfig(), region, endpointUrl, options);
            return credentials == null ? new AmazonSimpleSystemsManagementClient(config) : new AmazonSimpleSystemsManagementClient(credentials, config);
        }

        public static IAmazonS3 S3(string region, Uri? endpointUrl, AWSCredentials? credentials, AwsConnectionOptions options)
        {
            // One endpoint for every service (the loopback one) is reached path-style.
            var config = Configured(new AmazonS3Config { ForcePathStyle = endpointUrl != null }, region, endpointUrl, options);
            return credentials == null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
        }

        /// <summary>What every client of the connection shares: retries, timeout, and the endpoint (signed for the region) or the region's own.</summary>
        private static T Configured<T>(T config, string region, Uri? endpointUrl, AwsConnectionOptions options) where T : ClientConfig
        {
            config.RetryMode = RequestRetryMode.Standard;
            config.MaxErrorRetry = options.MaxRetries ?? 4;
            config.Timeout = options.RequestTimeout ?? TimeSpan.FromSeconds(30);
            if (endpointUrl != null)
            {
                config.ServiceURL = endpointUrl.ToString();
                config.AuthenticationRegion = region;
            }
            else config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
            return config;
        }
    }
}

using System;

namespace Rebundle.Aws
{
    /// <summary>
    /// How to reach EC2. Everything is optional: credentials and region come from the AWS
    /// SDK's standard chain (environment, shared credentials and config files, instance role)
    /// unless a profile or region is named here.
    /// </summary>
    public sealed class AwsConnectionOptions
    {
        /// <summary>The region, e.g. <c>us-east-1</c>. Default: the profile's or the environment's region.</summary>
        public string? Region { get; set; }

        /// <summary>A profile of the shared credentials/config files (<c>~/.aws/credentials</c>, <c>~/.aws/config</c>).</summary>
        public string? ProfileName { get; set; }

        /// <summary>Any EC2-compatible endpoint, e.g. <c>http://127.0.0.1:4566/</c>. Default: the region's EC2 endpoint.</summary>
        public string? EndpointUrl { get; set; }

        /// <summary>How often waits ask EC2 again. Default 5 seconds.</summary>
        public TimeSpan? PollInterval { get; set; }

        /// <summary>How many times a throttled or failed request is retried (with backoff). Default 4.</summary>
        public int? MaxRetries { get; set; }

        /// <summary>How long one HTTP request may take before it is abandoned (and retried). Default 30 seconds.</summary>
        public TimeSpan? RequestTimeout { get; set; }

        public override string ToString() =>
            "Region=" + (Region ?? "(default)") + ", Profile=" + (ProfileName ?? "(default chain)") + (EndpointUrl == null ? "" : ", Endpoint=" + EndpointUrl);
    }
}

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

        /// <summary>Who holds the leases this connection takes, as other machines are told. Default: the user name of this process.</summary>
        public string? LeaseUser { get; set; }

        /// <summary>The host named in this connection's leases. Default: this machine's name.</summary>
        public string? LeaseHost { get; set; }

        /// <summary>How long a farm lease lasts unless renewed (it is renewed while held). Default 10 minutes.</summary>
        public TimeSpan? LeaseDuration { get; set; }

        /// <summary>How often, in real time, held leases are looked at for renewal. Default 30 seconds.</summary>
        public TimeSpan? LeaseRenewalCheck { get; set; }

        /// <summary>
        /// How long after writing its lease tags a run waits before reading them back, so that a
        /// run that read the farm free just before has written its own by then. Default 2 seconds.
        /// </summary>
        public TimeSpan? LeaseSettleTime { get; set; }

        public override string ToString() =>
            "Region=" + (Region ?? "(default)") + ", Profile=" + (ProfileName ?? "(default chain)") + (EndpointUrl == null ? "" : ", Endpoint=" + EndpointUrl);
    }
}

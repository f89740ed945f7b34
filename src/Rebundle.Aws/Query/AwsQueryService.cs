using Rebundle.Errors;

namespace Rebundle.Aws.Query
{
    /// <summary>
    /// One AWS service spoken over the Query protocol (form-encoded POST, XML answers): what
    /// <see cref="AwsQueryClient"/> needs to know of it. Each Query service is one of these plus its typed calls
    /// (Elb/Elbv2Calls.cs, AutoScaling/AutoScalingCalls.cs).
    /// </summary>
    public sealed class AwsQueryService
    {
        /// <summary>ELBv2 (application and network load balancers, target groups).</summary>
        public static readonly AwsQueryService ElasticLoadBalancingV2 = new AwsQueryService(
            "elasticloadbalancing", "2015-12-01", "ELBv2",
            new Dictionary<string, TtmErrorCode>(StringComparer.Ordinal)
            {
                ["TargetGroupNotFound"] = TtmErrorCode.TargetGroupNotFound,
                ["InvalidTarget"] = TtmErrorCode.InvalidTarget,
            });

        /// <summary>
        /// EC2 Auto Scaling. ScalingActivityInProgress (a change raced one of the group's own
        /// activities) and ResourceContention (another update to the group is pending) pass once
        /// the activity or update is done, so they are retried like throttling.
        /// </summary>
        public static readonly AwsQueryService AutoScaling = new AwsQueryService(
            "autoscaling", "2011-01-01", "Auto Scaling",
            new Dictionary<string, TtmErrorCode>(StringComparer.Ordinal)
            {
                ["ScalingActivityInProgress"] = TtmErrorCode.Throttled,
                ["ResourceContention"] = TtmErrorCode.Throttled,
            },
            retryable: new[] { "ScalingActivityInProgress", "ResourceContention" });

        public AwsQueryService(string signingName, string version, string displayName, IReadOnlyDictionary<string, TtmErrorCode>? codes = null, IEnumerable<string>? retryable = null)
        {
            SigningName = signingName;
            Version = version;
            DisplayName = displayName;
            Codes = codes ?? new Dictionary<string, TtmErrorCode>();
            RetryableCodes = new HashSet<string>(retryable ?? Array.Empty<string>(), StringComparer.Ordinal);
        }

        /// <summary>The service's own error codes that pass by themselves: retried with the same backoff as throttling.</summary>
        public HashSet<string> RetryableCodes { get; }

        /// <summary>The SigV4 credential scope's service and the endpoint's first label (elasticloadbalancing.us-east-1.amazonaws.com).</summary>
        public string SigningName { get; }

        /// <summary>The API version every request names (Version=…).</summary>
        public string Version { get; }

        /// <summary>How messages name the service.</summary>
        public string DisplayName { get; }

        /// <summary>The service's own error codes that have a TtmErrorCode of their own; the shared ones (throttling, denial) are the client's.</summary>
        public IReadOnlyDictionary<string, TtmErrorCode> Codes { get; }

        public Uri DefaultEndpoint(string region) => new Uri($"https://{SigningName}.{region}.amazonaws.com/");
    }
}

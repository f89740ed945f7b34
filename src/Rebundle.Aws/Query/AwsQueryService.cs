using Rebundle.Errors;

namespace Rebundle.Aws.Query
{
    /// <summary>
    /// One AWS service spoken over the Query protocol (form-encoded POST, XML answers): what
    /// <see cref="AwsQueryClient"/> needs to know of it. The next Query service (Auto Scaling:
    /// <c>autoscaling</c>, 2011-01-01) is one more of these plus its typed calls.
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

        public AwsQueryService(string signingName, string version, string displayName, IReadOnlyDictionary<string, TtmErrorCode>? codes = null)
        {
            SigningName = signingName;
            Version = version;
            DisplayName = displayName;
            Codes = codes ?? new Dictionary<string, TtmErrorCode>();
        }

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

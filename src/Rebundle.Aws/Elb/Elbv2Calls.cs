using System.Globalization;
using System.Xml.Linq;
using Rebundle.Aws.Query;
using Rebundle.Errors;
using static Rebundle.Aws.Query.AwsQueryClient;

namespace Rebundle.Aws.Elb
{
    /// <summary>A target group as DescribeTargetGroups answers it: name and ARN.</summary>
    public sealed class TargetGroupInfo
    {
        public TargetGroupInfo(string name, string arn)
        {
            Name = name;
            Arn = arn;
        }

        public string Name { get; }

        public string Arn { get; }
    }

    /// <summary>One registered target as DescribeTargetHealth answers it: instance id, port, ELBv2 state (initial, healthy, …) and reason.</summary>
    public sealed class TargetHealthInfo
    {
        public TargetHealthInfo(string id, string? port, string state, string? reason)
        {
            Id = id;
            Port = port;
            State = state;
            Reason = reason;
        }

        public string Id { get; }

        public string? Port { get; }

        public string State { get; }

        public string? Reason { get; }
    }

    /// <summary>
    /// The ELBv2 calls Rebundle makes (API 2015-12-01), typed, over <see cref="AwsQueryClient"/>.
    /// Only instance targets (Targets.member.N.Id = instance id, the target group's own port):
    /// Rebundle's servers are instances. The action names are the IAM action names too
    /// (elasticloadbalancing:&lt;Action&gt;, see <see cref="Actions"/>).
    /// </summary>
    public sealed class Elbv2Calls : IDisposable
    {
        public const string DescribeTargetGroupsAction = "DescribeTargetGroups";
        public const string DescribeTargetGroupAttributesAction = "DescribeTargetGroupAttributes";
        public const string DescribeTargetHealthAction = "DescribeTargetHealth";
        public const string RegisterTargetsAction = "RegisterTargets";
        public const string DeregisterTargetsAction = "DeregisterTargets";

        /// <summary>Every action called, as IAM names them (docs/aws.md's policy lists exactly these).</summary>
        public static readonly IReadOnlyList<string> Actions = new[]
        {
            DescribeTargetGroupsAction, DescribeTargetGroupAttributesAction, DescribeTargetHealthAction, RegisterTargetsAction, DeregisterTargetsAction,
        }.Select(a => "elasticloadbalancing:" + a).ToList();

        /// <summary>DescribeTargetGroups takes at most 20 names a call.</summary>
        public const int NamesPerCall = 20;

        /// <summary>ELBv2's default when a target group has never had it set.</summary>
        public static readonly TimeSpan DefaultDeregistrationDelay = TimeSpan.FromSeconds(300);

        private readonly AwsQueryClient _client;

        public Elbv2Calls(AwsQueryClient client) => _client = client;

        public AwsQueryClient Client => _client;

        /// <summary>The named target groups, 20 names a call, each call paged by Marker. An unknown name fails the whole read (TargetGroupNotFound), as ELBv2 does.</summary>
        public IReadOnlyList<TargetGroupInfo> DescribeTargetGroups(IReadOnlyCollection<string> names, CancellationToken cancellation, int? pageSize = null)
        {
            var found = new List<TargetGroupInfo>();
            var distinct = names.Distinct(StringComparer.Ordinal).ToList();
            for (var at = 0; at < distinct.Count; at += NamesPerCall)
            {
                var chunk = distinct.Skip(at).Take(NamesPerCall).ToList();
                var parameters = chunk.Select((name, i) => Pair($"Names.member.{i + 1}", name)).ToList();
                if (pageSize != null) parameters.Add(Pair("PageSize", pageSize.Value.ToString(CultureInfo.InvariantCulture)));
                found.AddRange(_client.All(DescribeTargetGroupsAction, parameters, $"Reading target groups {string.Join(", ", chunk)}", cancellation,
                    result => Members(result, "TargetGroups").Select(m => new TargetGroupInfo(Text(m, "TargetGroupName"), Text(m, "TargetGroupArn"))),
                    string.Join(",", chunk)));
            }
            return found;
        }

        /// <summary>How long a deregistered target drains (deregistration_delay.timeout_seconds).</summary>
        public TimeSpan DeregistrationDelay(TargetGroupInfo group, CancellationToken cancellation)
        {
            var result = _client.Call(DescribeTargetGroupAttributesAction, new[] { Pair("TargetGroupArn", group.Arn) },
                $"Reading the attributes of target group {group.Name}", cancellation, group.Name);
            var value = Members(result, "Attributes").FirstOrDefault(a => Text(a, "Key") == "deregistration_delay.timeout_seconds");
            return value != null && int.TryParse(Text(value, "Value"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)
                ? TimeSpan.FromSeconds(seconds)
                : DefaultDeregistrationDelay;
        }

        /// <summary>Every registered (or draining) target of the group: no Targets parameter asks for all of them, in one call.</summary>
        public IReadOnlyList<TargetHealthInfo> DescribeTargetHealth(TargetGroupInfo group, CancellationToken cancellation)
        {
            var result = _client.Call(DescribeTargetHealthAction, new[] { Pair("TargetGroupArn", group.Arn) },
                $"Reading the target health of target group {group.Name}", cancellation, group.Name);
            return Members(result, "TargetHealthDescriptions").Select(d =>
            {
                var target = Child(d, "Target");
                var health = Child(d, "TargetHealth");
                return new TargetHealthInfo(Text(target, "Id"), Child(target, "Port")?.Value, Text(health, "State"), Child(health, "Reason")?.Value);
            }).ToList();
        }

        public void RegisterTargets(TargetGroupInfo group, IReadOnlyCollection<string> instanceIds, CancellationToken cancellation) =>
            _client.Call(RegisterTargetsAction, Targets(group, instanceIds), $"Registering {Servers(instanceIds)} in target group {group.Name}", cancellation, group.Name);

        public void DeregisterTargets(TargetGroupInfo group, IReadOnlyCollection<string> instanceIds, CancellationToken cancellation) =>
            _client.Call(DeregisterTargetsAction, Targets(group, instanceIds), $"Deregistering {Servers(instanceIds)} from target group {group.Name}", cancellation, group.Name);

        private static List<KeyValuePair<string, string>> Targets(TargetGroupInfo group, IReadOnlyCollection<string> instanceIds)
        {
            var parameters = new List<KeyValuePair<string, string>> { Pair("TargetGroupArn", group.Arn) };
            parameters.AddRange(instanceIds.Select((id, i) => Pair($"Targets.member.{i + 1}.Id", id)));
            return parameters;
        }

        private static string Servers(IReadOnlyCollection<string> ids) => ids.Count == 1 ? "server " + ids.First() : $"{ids.Count} servers";

        private static string Text(XElement? parent, string name) =>
            Child(parent, name)?.Value ?? throw new TtmException(TtmErrorCode.BackendError, $"ELBv2 answered without {name} where every answer carries one.");

        public void Dispose() => _client.Dispose();
    }
}

using System.Globalization;
using System.Xml.Linq;
using Rebundle.Aws.Query;
using Rebundle.Errors;
using Rebundle.Runbook;
using static Rebundle.Aws.Query.AwsQueryClient;

namespace Rebundle.Aws.AutoScaling
{
    /// <summary>
    /// The EC2 Auto Scaling calls Rebundle makes (API 2011-01-01), typed, over the same small
    /// Query client the ELBv2 calls use (AWSSDK.AutoScaling is not served to this project; with
    /// it, this file is rewritten over the SDK client and nothing above it changes). The action
    /// names are the IAM action names too (autoscaling:&lt;Action&gt;, see <see cref="Actions"/>).
    /// A change that races one of the group's own activities (ScalingActivityInProgress) or
    /// another pending update (ResourceContention) is retried by the client's backoff and then,
    /// since an activity can take minutes, for up to <see cref="ActivityWait"/> more, a poll at a time.
    /// </summary>
    public sealed class AutoScalingCalls : IDisposable
    {
        public const string DescribeAutoScalingGroupsAction = "DescribeAutoScalingGroups";
        public const string UpdateAutoScalingGroupAction = "UpdateAutoScalingGroup";
        public const string SetDesiredCapacityAction = "SetDesiredCapacity";
        public const string TerminateInstanceAction = "TerminateInstanceInAutoScalingGroup";
        public const string SetInstanceProtectionAction = "SetInstanceProtection";
        public const string SuspendProcessesAction = "SuspendProcesses";
        public const string ResumeProcessesAction = "ResumeProcesses";
        public const string DescribeScalingActivitiesAction = "DescribeScalingActivities";
        public const string DescribeLifecycleHooksAction = "DescribeLifecycleHooks";
        public const string CreateOrUpdateTagsAction = "CreateOrUpdateTags";
        public const string DeleteTagsAction = "DeleteTags";

        /// <summary>Every action called, as IAM names them (docs/aws.md's policy lists exactly these).</summary>
        public static readonly IReadOnlyList<string> Actions = new[]
        {
            DescribeAutoScalingGroupsAction, UpdateAutoScalingGroupAction, SetDesiredCapacityAction, TerminateInstanceAction, SetInstanceProtectionAction,
            SuspendProcessesAction, ResumeProcessesAction, DescribeScalingActivitiesAction, DescribeLifecycleHooksAction, CreateOrUpdateTagsAction, DeleteTagsAction,
        }.Select(a => "autoscaling:" + a).ToList();

        /// <summary>DescribeAutoScalingGroups: names a call (Rebundle's choice, well under the API's limits) and records a page (the API's most).</summary>
        public const int NamesPerCall = 50;
        public const int MaxRecords = 100;

        /// <summary>SetInstanceProtection takes at most 50 instance ids a call.</summary>
        public const int ProtectionIdsPerCall = 50;

        private static readonly HashSet<string> Racing = new HashSet<string>(StringComparer.Ordinal) { "ScalingActivityInProgress", "ResourceContention" };

        private readonly AwsQueryClient _client;
        private readonly IClock _clock;
        private readonly TimeSpan _poll;

        public AutoScalingCalls(AwsQueryClient client, IClock clock, TimeSpan pollInterval)
        {
            _client = client;
            _clock = clock;
            _poll = pollInterval;
        }

        /// <summary>How long a change that races a group's activity is tried again before it fails.</summary>
        public TimeSpan ActivityWait { get; set; } = TimeSpan.FromMinutes(2);

        public AwsQueryClient Client => _client;

        /// <summary>The named groups (unknown names are simply absent, as the API answers), 50 names a call, each call paged by NextToken.</summary>
        public IReadOnlyList<ScalingGroupInfo> DescribeGroups(IReadOnlyCollection<string> names, CancellationToken cancellation)
        {
            var found = new List<ScalingGroupInfo>();
            var distinct = names.Where(n => !string.IsNullOrEmpty(n)).Distinct(StringComparer.Ordinal).ToList();
            for (var at = 0; at < distinct.Count; at += NamesPerCall)
            {
                var chunk = distinct.Skip(at).Take(NamesPerCall).ToList();
                var parameters = chunk.Select((name, i) => Pair($"AutoScalingGroupNames.member.{i + 1}", name)).ToList();
                parameters.Add(Pair("MaxRecords", MaxRecords.ToString(CultureInfo.InvariantCulture)));
                found.AddRange(_client.All(DescribeAutoScalingGroupsAction, parameters, $"Reading Auto Scaling group(s) {string.Join(", ", chunk)}", cancellation,
                    result => Members(result, "AutoScalingGroups").Select(GroupOf), string.Join(",", chunk), ("NextToken", "NextToken")));
            }
            return found;
        }

        public ScalingGroupInfo? DescribeGroup(string name, CancellationToken cancellation) => DescribeGroups(new[] { name }, cancellation).FirstOrDefault();

        public void SetMaxSize(string group, int maxSize, CancellationToken cancellation) => Changing(cancellation, () =>
            _client.Call(UpdateAutoScalingGroupAction, new[] { Pair("AutoScalingGroupName", group), Pair("MaxSize", Number(maxSize)) },
                $"Setting the max size of Auto Scaling group {group} to {maxSize}", cancellation, group));

        /// <summary>The group launches from launch template <paramref name="templateName"/> at <paramref name="version"/> from now on.</summary>
        public void SetLaunchTemplate(string group, string templateName, string version, CancellationToken cancellation) => Changing(cancellation, () =>
            _client.Call(UpdateAutoScalingGroupAction, new[]
            {
                Pair("AutoScalingGroupName", group), Pair("LaunchTemplate.LaunchTemplateName", templateName), Pair("LaunchTemplate.Version", version),
            }, $"Pointing Auto Scaling group {group} at launch template {templateName} ({version})", cancellation, group));

        /// <summary>Desired capacity now, cooldowns not honoured: a recycle's launch is not a scaling policy's.</summary>
        public void SetDesiredCapacity(string group, int desired, CancellationToken cancellation) => Changing(cancellation, () =>
            _client.Call(SetDesiredCapacityAction, new[] { Pair("AutoScalingGroupName", group), Pair("DesiredCapacity", Number(desired)), Pair("HonorCooldown", "false") },
                $"Setting the desired capacity of Auto Scaling group {group} to {desired}", cancellation, group));

        /// <summary>Terminates one instance through its group, lowering the desired capacity with it, so the group does not launch a replacement.</summary>
        public void TerminateInstance(string instanceId, CancellationToken cancellation, object? target = null) => Changing(cancellation, () =>
            _client.Call(TerminateInstanceAction, new[] { Pair("InstanceId", instanceId), Pair("ShouldDecrementDesiredCapacity", "true") },
                $"Terminating instance {instanceId} through its Auto Scaling group", cancellation, target ?? instanceId));

        public void SetProtection(string group, IReadOnlyCollection<string> instanceIds, bool protect, CancellationToken cancellation)
        {
            var ids = instanceIds.Distinct(StringComparer.Ordinal).ToList();
            for (var at = 0; at < ids.Count; at += ProtectionIdsPerCall)
            {
                var chunk = ids.Skip(at).Take(ProtectionIdsPerCall).ToList();
                var parameters = chunk.Select((id, i) => Pair($"InstanceIds.member.{i + 1}", id)).ToList();
                parameters.Add(Pair("AutoScalingGroupName", group));
                parameters.Add(Pair("ProtectedFromScaleIn", protect ? "true" : "false"));
                Changing(cancellation, () => _client.Call(SetInstanceProtectionAction, parameters,
                    $"{(protect ? "Protecting" : "Unprotecting")} {chunk.Count} instance(s) of Auto Scaling group {group} {(protect ? "from" : "for")} scale-in", cancellation, group));
            }
        }

        public void SuspendProcesses(string group, IReadOnlyCollection<string> processes, CancellationToken cancellation) =>
            Processes(SuspendProcessesAction, "Suspending", group, processes, cancellation);

        public void ResumeProcesses(string group, IReadOnlyCollection<string> processes, CancellationToken cancellation) =>
            Processes(ResumeProcessesAction, "Resuming", group, processes, cancellation);

        // No process named suspends (or resumes) every one: never send that by accident.
        private void Processes(string action, string verb, string group, IReadOnlyCollection<string> processes, CancellationToken cancellation)
        {
            if (processes.Count == 0) return;
            var parameters = processes.Select((p, i) => Pair($"ScalingProcesses.member.{i + 1}", p)).ToList();
            parameters.Insert(0, Pair("AutoScalingGroupName", group));
            Changing(cancellation, () => _client.Call(action, parameters, $"{verb} {string.Join(", ", processes)} of Auto Scaling group {group}", cancellation, group));
        }

        /// <summary>The group's latest activities, newest first (one page: what a launch just started is among them).</summary>
        public IReadOnlyList<ScalingActivityInfo> RecentActivities(string group, CancellationToken cancellation)
        {
            var result = _client.Call(DescribeScalingActivitiesAction, new[] { Pair("AutoScalingGroupName", group), Pair("MaxRecords", "20") },
                $"Reading the scaling activities of Auto Scaling group {group}", cancellation, group);
            return Members(result, "Activities").Select(a => new ScalingActivityInfo
            {
                ActivityId = Text(a, "ActivityId"),
                StatusCode = Text(a, "StatusCode"),
                StatusMessage = Child(a, "StatusMessage")?.Value,
                Description = Child(a, "Description")?.Value ?? "",
                StartTime = DateTimeOffset.TryParse(Child(a, "StartTime")?.Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : (DateTimeOffset?)null,
            }).ToList();
        }

        public IReadOnlyList<LifecycleHookInfo> LifecycleHooks(string group, CancellationToken cancellation)
        {
            var result = _client.Call(DescribeLifecycleHooksAction, new[] { Pair("AutoScalingGroupName", group) },
                $"Reading the lifecycle hooks of Auto Scaling group {group}", cancellation, group);
            return Members(result, "LifecycleHooks").Select(h => new LifecycleHookInfo
            {
                Name = Text(h, "LifecycleHookName"),
                Transition = Text(h, "LifecycleTransition"),
                HeartbeatTimeout = TimeSpan.FromSeconds(int.TryParse(Child(h, "HeartbeatTimeout")?.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : 3600),
                DefaultResult = Child(h, "DefaultResult")?.Value ?? "ABANDON",
            }).ToList();
        }

        /// <summary>Sets tags on the group; <paramref name="propagate"/>: the group also puts them on every instance it launches.</summary>
        public void SetTags(string group, IReadOnlyDictionary<string, string> tags, bool propagate, CancellationToken cancellation)
        {
            if (tags.Count == 0) return;
            var parameters = new List<KeyValuePair<string, string>>();
            var n = 0;
            foreach (var tag in tags)
            {
                n++;
                parameters.Add(Pair($"Tags.member.{n}.ResourceId", group));
                parameters.Add(Pair($"Tags.member.{n}.ResourceType", "auto-scaling-group"));
                parameters.Add(Pair($"Tags.member.{n}.Key", tag.Key));
                parameters.Add(Pair($"Tags.member.{n}.Value", tag.Value));
                parameters.Add(Pair($"Tags.member.{n}.PropagateAtLaunch", propagate ? "true" : "false"));
            }
            Changing(cancellation, () => _client.Call(CreateOrUpdateTagsAction, parameters, $"Tagging Auto Scaling group {group} ({string.Join(", ", tags.Keys)})", cancellation, group));
        }

        public void DeleteTag(string group, string key, CancellationToken cancellation) => Changing(cancellation, () =>
            _client.Call(DeleteTagsAction, new[]
            {
                Pair("Tags.member.1.ResourceId", group), Pair("Tags.member.1.ResourceType", "auto-scaling-group"), Pair("Tags.member.1.Key", key),
            }, $"Removing tag {key} from Auto Scaling group {group}", cancellation, group));

        /// <summary>Runs a change, trying again while it races an activity of the group, up to <see cref="ActivityWait"/>.</summary>
        private void Changing(CancellationToken cancellation, Action change)
        {
            var until = _clock.UtcNow + ActivityWait;
            while (true)
            {
                try
                {
                    change();
                    return;
                }
                catch (TtmException e) when (e.BackendCode != null && Racing.Contains(e.BackendCode) && _clock.UtcNow < until)
                {
                    _clock.Sleep(_poll, cancellation);
                }
            }
        }

        private static ScalingGroupInfo GroupOf(XElement g)
        {
            var template = Child(g, "LaunchTemplate");
            return new ScalingGroupInfo
            {
                Name = Text(g, "AutoScalingGroupName"),
                MinSize = Int(g, "MinSize"),
                MaxSize = Int(g, "MaxSize"),
                DesiredCapacity = Int(g, "DesiredCapacity"),
                LaunchTemplateName = Child(template, "LaunchTemplateName")?.Value,
                LaunchTemplateId = Child(template, "LaunchTemplateId")?.Value,
                LaunchTemplateVersion = Child(template, "Version")?.Value,
                HealthCheckType = Child(g, "HealthCheckType")?.Value ?? "EC2",
                NewInstancesProtectedFromScaleIn = Child(g, "NewInstancesProtectedFromScaleIn")?.Value == "true",
                TargetGroupArns = Members(g, "TargetGroupARNs").Select(m => m.Value).ToList(),
                SuspendedProcesses = Members(g, "SuspendedProcesses").Select(m => Text(m, "ProcessName")).ToList(),
                Tags = Members(g, "Tags").GroupBy(t => Text(t, "Key"), StringComparer.Ordinal).ToDictionary(t => t.Key, t => Child(t.First(), "Value")?.Value ?? "", StringComparer.Ordinal),
                Instances = Members(g, "Instances").Select(i => new ScalingInstanceInfo
                {
                    InstanceId = Text(i, "InstanceId"),
                    LifecycleState = Text(i, "LifecycleState"),
                    HealthStatus = Child(i, "HealthStatus")?.Value ?? "",
                    ProtectedFromScaleIn = Child(i, "ProtectedFromScaleIn")?.Value == "true",
                }).ToList(),
            };
        }

        /// <summary>The target group's name from its ARN (arn:aws:elasticloadbalancing:…:targetgroup/&lt;name&gt;/&lt;id&gt;).</summary>
        public static string TargetGroupNameOf(string arn)
        {
            var parts = arn.Split('/');
            return parts.Length >= 3 ? parts[parts.Length - 2] : arn;
        }

        private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

        private static int Int(XElement parent, string name) =>
            int.TryParse(Text(parent, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
                : throw new TtmException(TtmErrorCode.BackendError, $"Auto Scaling answered {name} '{Text(parent, name)}', not a number.");

        private static string Text(XElement? parent, string name) =>
            Child(parent, name)?.Value ?? throw new TtmException(TtmErrorCode.BackendError, $"Auto Scaling answered without {name} where every answer carries one.");

        public void Dispose() => _client.Dispose();
    }
}

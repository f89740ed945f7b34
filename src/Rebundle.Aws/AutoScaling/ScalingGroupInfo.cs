namespace Rebundle.Aws.AutoScaling
{
    /// <summary>An Auto Scaling group as DescribeAutoScalingGroups answers it: what Rebundle reads of it.</summary>
    public sealed class ScalingGroupInfo
    {
        public string Name { get; set; } = "";

        public int MinSize { get; set; }

        public int MaxSize { get; set; }

        public int DesiredCapacity { get; set; }

        /// <summary>The launch template it launches from (null: a launch configuration or a mixed instances policy, which Rebundle does not drive).</summary>
        public string? LaunchTemplateName { get; set; }

        public string? LaunchTemplateId { get; set; }

        /// <summary>$Default, $Latest or a version number.</summary>
        public string? LaunchTemplateVersion { get; set; }

        public string HealthCheckType { get; set; } = "EC2";

        public bool NewInstancesProtectedFromScaleIn { get; set; }

        public IReadOnlyList<string> TargetGroupArns { get; set; } = Array.Empty<string>();

        public IReadOnlyList<string> SuspendedProcesses { get; set; } = Array.Empty<string>();

        /// <summary>The group's tags by key.</summary>
        public IReadOnlyDictionary<string, string> Tags { get; set; } = new Dictionary<string, string>();

        public IReadOnlyList<ScalingInstanceInfo> Instances { get; set; } = Array.Empty<ScalingInstanceInfo>();

        public string? Tag(string key) => Tags.TryGetValue(key, out var value) ? value : null;
    }

    /// <summary>One instance of a group: its lifecycle state (Pending, Pending:Wait, InService, Terminating:Wait, …), health and scale-in protection.</summary>
    public sealed class ScalingInstanceInfo
    {
        public string InstanceId { get; set; } = "";

        public string LifecycleState { get; set; } = "";

        public string HealthStatus { get; set; } = "";

        public bool ProtectedFromScaleIn { get; set; }

        /// <summary>Launching: Pending, Pending:Wait, Pending:Proceed.</summary>
        public bool IsLaunching => LifecycleState.StartsWith("Pending", StringComparison.Ordinal);

        /// <summary>Leaving: Terminating, Terminating:Wait, Terminating:Proceed, Terminated (and Detaching, Detached).</summary>
        public bool IsLeaving => LifecycleState.StartsWith("Terminat", StringComparison.Ordinal) || LifecycleState.StartsWith("Detach", StringComparison.Ordinal);
    }

    /// <summary>One scaling activity: a launch or a termination, with how it went.</summary>
    public sealed class ScalingActivityInfo
    {
        public string ActivityId { get; set; } = "";

        public string StatusCode { get; set; } = "";

        public string? StatusMessage { get; set; }

        public string Description { get; set; } = "";

        public DateTimeOffset? StartTime { get; set; }
    }

    /// <summary>A lifecycle hook: which transition it holds (launching or terminating) and for how long at most.</summary>
    public sealed class LifecycleHookInfo
    {
        public string Name { get; set; } = "";

        public string Transition { get; set; } = "";

        public TimeSpan HeartbeatTimeout { get; set; }

        public string DefaultResult { get; set; } = "";
    }
}

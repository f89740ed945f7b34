using System;
using System.Collections.Generic;
using System.Linq;

namespace Rebundle.Ec2Endpoint;

/// <summary>Auto Scaling's names: lifecycle states, hook transitions and the processes SuspendProcesses knows.</summary>
internal static class Asg
{
    public const string Pending = "Pending", PendingWait = "Pending:Wait", PendingProceed = "Pending:Proceed", InService = "InService";
    public const string Terminating = "Terminating", TerminatingWait = "Terminating:Wait", TerminatingProceed = "Terminating:Proceed", Terminated = "Terminated";

    public const string LaunchingHook = "autoscaling:EC2_INSTANCE_LAUNCHING", TerminatingHook = "autoscaling:EC2_INSTANCE_TERMINATING";

    public const string Continue = "CONTINUE", Abandon = "ABANDON";

    /// <summary>Every scaling process, in the order the API reference lists them.</summary>
    public static readonly IReadOnlyList<string> Processes = new[]
    {
        "Launch", "Terminate", "AddToLoadBalancer", "AlarmNotification", "AZRebalance", "HealthCheck", "InstanceRefresh", "ReplaceUnhealthy", "ScheduledActions",
    };

    /// <summary>States that count towards the group's capacity: launching or in service, not on their way out.</summary>
    public static bool IsLive(string state) => state is Pending or PendingWait or PendingProceed or InService;

    public static bool IsLaunching(string state) => state is Pending or PendingWait or PendingProceed;
}

/// <summary>An Auto Scaling group: its settings, its instances, what it did (activities) and its lifecycle hooks.</summary>
internal sealed class AsgGroup
{
    public string Name { get; init; } = "";
    public string Arn { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public string LaunchTemplateId { get; set; } = "";
    public string LaunchTemplateName { get; set; } = "";

    /// <summary>The version as the group names it: $Default, $Latest or a number (resolved at each launch).</summary>
    public string Version { get; set; } = "$Default";
    public int Min { get; set; }
    public int Max { get; set; }
    public int Desired { get; set; }
    public int DefaultCooldown { get; set; } = 300;
    public string HealthCheckType { get; set; } = "EC2";
    public TimeSpan HealthCheckGracePeriod { get; set; }
    public List<string> TargetGroupArns { get; } = new();
    public bool NewInstancesProtectedFromScaleIn { get; set; }
    public List<(string Process, string Reason)> Suspended { get; } = new();
    public List<AutoScalingTag> Tags { get; } = new();
    public List<AsgInstance> Instances { get; } = new();

    /// <summary>Oldest first; Describe answers newest first.</summary>
    public List<AsgActivity> Activities { get; } = new();
    public List<AsgHook> Hooks { get; } = new();

    /// <summary>The last time the group looked at its capacity (Reconcile's clock for this group).</summary>
    public DateTimeOffset DecidedAt { get; set; } = DateTimeOffset.MinValue;

    /// <summary>After a launch that failed at once (no instance), the next try waits until then; doubles per failure in a row.</summary>
    public DateTimeOffset NextLaunchAt { get; set; } = DateTimeOffset.MinValue;
    public int FailedLaunchesInRow { get; set; }

    /// <summary>What a user changed last (the first sentence of the activities that change brings about), and when.</summary>
    public string? CapacityCause { get; set; }
    public DateTimeOffset CapacityCauseAt { get; set; }

    public bool IsSuspended(string process) => Suspended.Any(s => s.Process == process);

    public IEnumerable<AsgInstance> Live => Instances.Where(i => Asg.IsLive(i.State));
}

/// <summary>
/// One instance of a group: the EC2 instance behind it and its Auto Scaling lifecycle state,
/// entered at <see cref="Since"/>. Reconcile moves it on from timestamps (AutoScalingFleet.Lifecycle.cs).
/// </summary>
internal sealed class AsgInstance
{
    public Ec2Instance Ec2 { get; init; } = null!;
    public string Id => Ec2.Id;

    /// <summary>The launch template version as the group named it at launch ($Default…), as Auto Scaling shows it.</summary>
    public string Version { get; init; } = "";
    public DateTimeOffset LaunchedAt { get; init; }
    public string State { get; set; } = Asg.Pending;
    public DateTimeOffset Since { get; set; }
    public bool Healthy { get; set; } = true;

    /// <summary>Why it was found unhealthy, as the terminating activity's cause says it ("an ELB system health check failure").</summary>
    public string? UnhealthyBecause { get; set; }
    public bool Protected { get; set; }
    public AsgActivity? Launch { get; set; }
    public AsgActivity? Termination { get; set; }

    /// <summary>The lifecycle actions of the wait state it is in (one per hook of that transition).</summary>
    public List<AsgWait> Waits { get; set; } = new();

    /// <summary>While Terminating: when its target groups have drained it.</summary>
    public DateTimeOffset DrainedAt { get; set; }
}

/// <summary>One lifecycle action: an instance waiting on a hook until completed or the heartbeat timeout.</summary>
internal sealed class AsgWait
{
    public AsgHook Hook { get; init; } = null!;
    public string Token { get; init; } = Guid.NewGuid().ToString();
    public DateTimeOffset Deadline { get; init; }
    public string? Result { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>How and when it ends: as completed, else at the heartbeat timeout with the hook's default result.</summary>
    public (DateTimeOffset At, string Result) Outcome => CompletedAt is { } at ? (at, Result!) : (Deadline, Hook.DefaultResult);
}

internal sealed class AsgHook
{
    public string Name { get; init; } = "";
    public string Transition { get; init; } = Asg.LaunchingHook;
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromHours(1);
    public string DefaultResult { get; init; } = Asg.Abandon;

    /// <summary>AWS: the smaller of 100 × the heartbeat timeout and 48 hours. Shown only: heartbeats are not modelled.</summary>
    public int GlobalTimeoutSeconds => (int)Math.Min(100 * Math.Ceiling(HeartbeatTimeout.TotalSeconds), 172800);
}

internal sealed class AsgActivity
{
    public string Id { get; init; } = Guid.NewGuid().ToString();
    public string Description { get; init; } = "";
    public string Cause { get; init; } = "";
    public DateTimeOffset StartTime { get; init; }
    public DateTimeOffset? EndTime { get; set; }
    public string StatusCode { get; set; } = "InProgress";
    public string? StatusMessage { get; set; }
    public int Progress { get; set; }

    public bool InProgress => EndTime == null;

    public void End(DateTimeOffset at, string statusCode, string? message = null)
    {
        EndTime = at;
        StatusCode = statusCode;
        StatusMessage = message;
        Progress = 100;
    }
}

// ---- What tests read (snapshots: they do not change as the group goes on) ---------------------

public sealed record AutoScalingTag(string Key, string Value, bool PropagateAtLaunch);

public sealed record AutoScalingInstanceView(string Id, string LifecycleState, string HealthStatus, bool ProtectedFromScaleIn, string LaunchTemplateVersion);

public sealed record AutoScalingActivityView(string Id, string Description, string Cause, string StatusCode, string? StatusMessage, DateTimeOffset StartTime, DateTimeOffset? EndTime, int Progress);

/// <summary>A group as it is now. <see cref="Activities"/> newest first, as DescribeScalingActivities lists them.</summary>
public sealed record AutoScalingGroupView(
    string Name, string Arn, int Min, int Max, int Desired, string LaunchTemplateName, string Version,
    IReadOnlyList<string> SuspendedProcesses, bool NewInstancesProtectedFromScaleIn, IReadOnlyList<AutoScalingTag> Tags,
    IReadOnlyList<AutoScalingInstanceView> Instances, IReadOnlyList<AutoScalingActivityView> Activities,
    IReadOnlyList<string> TargetGroupArns, string HealthCheckType);

/// <summary>Auto Scaling failures to inject (throttling and lost answers are the EC2 faults' counters, shared: see Ec2Fleet.Handle).</summary>
public sealed class AutoScalingFaults
{
    /// <summary>The next N mutating Auto Scaling calls are refused: 400 ScalingActivityInProgress.</summary>
    public int ScalingActivityInProgress { get; set; }

    /// <summary>The next N mutating Auto Scaling calls are refused: 500 ResourceContention (the SDKs retry it).</summary>
    public int ResourceContention { get; set; }

    /// <summary>Auto Scaling actions the caller's policy does not allow: 403 AccessDenied.</summary>
    public HashSet<string> DeniedActions { get; } = new(StringComparer.Ordinal);
}

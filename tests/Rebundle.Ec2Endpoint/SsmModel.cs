using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Text;

namespace Rebundle.Ec2Endpoint;

/// <summary>
/// An EC2 instance of the fake fleet registered with Systems Manager: its agent runs commands as
/// real processes on this machine, in a throwaway folder under the system temp folder:
/// <see cref="WorkingDirectory"/> (the commands' current directory), <see cref="StateDirectory"/>
/// (the fakes' $FAKE_STATE: boot-time, apt.log, packages, chef/ … as the SSH tests' fakes expect),
/// <see cref="BinDirectory"/> (the fakes, first on PATH) and the agent's own orchestration folder
/// (each invocation's _script.sh, stdout and stderr). Deleted when the endpoint is disposed.
/// </summary>
public sealed class SsmManagedInstance
{
    internal SsmManagedInstance(string instanceId, string root)
    {
        InstanceId = instanceId;
        Root = root;
    }

    public string InstanceId { get; }

    /// <summary>The instance's folder: work/, state/, bin/ and agent/ inside.</summary>
    public string Root { get; }

    public string WorkingDirectory => System.IO.Path.Combine(Root, "work");

    public string StateDirectory => System.IO.Path.Combine(Root, "state");

    public string BinDirectory => System.IO.Path.Combine(Root, "bin");

    /// <summary>Where the agent keeps each invocation's script and output (orchestration/&lt;commandId&gt;/awsrunShellScript/0.awsrunshellscript/).</summary>
    public string AgentDirectory => System.IO.Path.Combine(Root, "agent");

    public string PlatformName { get; init; } = "Ubuntu";

    public string PlatformVersion { get; init; } = "22.04";

    public string AgentVersion { get; init; } = "3.3.1611.0";

    public DateTimeOffset RegisteredAt { get; init; }

    // ---- The agent's state (under the fleet's lock) -----------------------------------------

    /// <summary>A test's word on the agent (ConnectionLost, Inactive); null: Online while the EC2 instance runs.</summary>
    internal string? AgentOverride { get; set; }

    /// <summary>While set and not reached, the instance reboots: the agent is away (ConnectionLost).</summary>
    internal DateTimeOffset? RebootingUntil { get; set; }

    internal DateTimeOffset LastPing { get; set; }

    internal int Reboots { get; set; }
}

/// <summary>One command sent by SendCommand (one invocation per instance).</summary>
internal sealed class SsmCommand
{
    public string CommandId { get; init; } = "";
    public string DocumentName { get; init; } = SsmFleet.RunShellScript;
    public string Comment { get; init; } = "";
    public IReadOnlyList<string> InstanceIds { get; init; } = Array.Empty<string>();
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Parameters { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
    public IReadOnlyList<string> Commands { get; init; } = Array.Empty<string>();
    public TimeSpan ExecutionTimeout { get; init; }
    public int TimeoutSeconds { get; init; }
    public DateTimeOffset RequestedAt { get; init; }
    public string? OutputS3BucketName { get; init; }
    public string? OutputS3KeyPrefix { get; init; }

    /// <summary>SSM's ExpiresAfter: the delivery timeout plus the execution timeout after the request; Pending or InProgress then is DeliveryTimedOut.</summary>
    public DateTimeOffset ExpiresAfter => RequestedAt + TimeSpan.FromSeconds(TimeoutSeconds) + ExecutionTimeout;

    /// <summary>The script the agent writes (_script.sh): the commands lines joined by newlines.</summary>
    public string Script => string.Join("\n", Commands) + "\n";
}

/// <summary>Why the fleet killed an invocation's process (null: it ended by itself).</summary>
internal enum SsmKill
{
    None,
    Timeout,
    Cancel,
    Reboot,
    Expired,
    WallClock,
    Gone,
}

/// <summary>One command on one instance, as the agent runs it. State follows the fleet's reconcile (SsmFleet.Agent.cs).</summary>
internal sealed class SsmInvocation
{
    public SsmCommand Command { get; init; } = new();
    public string InstanceId { get; init; } = "";

    /// <summary>When GetCommandInvocation first knows it (InvocationDoesNotExist before).</summary>
    public DateTimeOffset VisibleAt { get; init; }

    public string Status { get; set; } = "Pending";
    public string StatusDetails { get; set; } = "Pending";
    public int ResponseCode { get; set; } = -1;

    /// <summary>When the first run started and the last one ended, on the fake clock.</summary>
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>When the current run started (a reboot-and-resume run starts anew), fake clock and wall clock.</summary>
    public DateTimeOffset RunStartedAt { get; set; }
    public Stopwatch RunWall { get; set; } = new();

    public int Runs { get; set; }
    public Process? Process { get; set; }
    public SsmKill Killed { get; set; }
    public DateTimeOffset? CancelRequestedAt { get; set; }

    /// <summary>Exit 194: run the script again once the agent is back from the reboot.</summary>
    public bool ResumeAfterReboot { get; set; }

    /// <summary>Killed by a reboot it did not ask for with 194 (a script that ran reboot): Failed once the agent is back.</summary>
    public int? DiedInReboot { get; set; }

    public StringBuilder Stdout { get; } = new();
    public StringBuilder Stderr { get; } = new();

    public string OrchestrationDirectory { get; set; } = "";

    public bool Terminal => Status is "Success" or "Failed" or "TimedOut" or "Cancelled";
}

/// <summary>An invocation as tests see it: what ran where, how it ended, and its whole output.</summary>
public sealed record SsmInvocationView(
    string CommandId, string InstanceId, string DocumentName, IReadOnlyList<string> Commands, string Comment,
    string Status, string StatusDetails, int ResponseCode, string StandardOutput, string StandardError,
    DateTimeOffset RequestedAt, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt, int Runs,
    TimeSpan ExecutionTimeout, int TimeoutSeconds, string? OutputS3BucketName, string? OutputS3KeyPrefix);

/// <summary>A managed instance as DescribeInstanceInformation would show it now, for tests.</summary>
public sealed record SsmInstanceView(string InstanceId, string PingStatus, DateTimeOffset LastPingDateTime, string PlatformName, string PlatformVersion,
    string AgentVersion, string WorkingDirectory, string StateDirectory, int Reboots);

/// <summary>Systems Manager failures to inject (throttling and lost answers are the fleet's shared Ec2Faults).</summary>
public sealed class SsmFaults
{
    /// <summary>
    /// Actions the caller may not call: SSM's (SendCommand, GetCommandInvocation, …, with or
    /// without the ssm: prefix) are 403 AccessDeniedException, S3's (s3:GetObject) 403 AccessDenied.
    /// </summary>
    public HashSet<string> DeniedActions { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, how long GetCommandInvocation answers InvocationDoesNotExist after SendCommand (instead of <see cref="SsmFleet.NotYetVisibleFor"/>).</summary>
    public TimeSpan? InvocationDoesNotExistFor { get; set; }
}

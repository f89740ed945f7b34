using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Rebundle.Ec2Endpoint;

/// <summary>
/// The agents: what each invocation does between two looks. Nothing runs on a timer except the
/// processes themselves (and a wall-clock cap that kills a process left running); <see cref="Reconcile"/>,
/// under the fleet's lock, starts what can start, sees what ended, and moves the states on:
/// <list type="bullet">
/// <item>Pending until the agent is Online (then the script starts at once); not started within
/// TimeoutSeconds, it never runs, and at ExpiresAfter (TimeoutSeconds + executionTimeout after the
/// request) it is TimedOut / DeliveryTimedOut (AWS: "If the command isn't received by the agent
/// before … the sum of the Timeout (seconds) and the Execution timeout … Delivery Timed Out").</item>
/// <item>InProgress while the process runs (output empty until it ends, as SSM uploads at the end);
/// exit 0 Success, else Failed with the agent's "failed to run commands: exit status N" after
/// stderr; ResponseCode the exit code.</item>
/// <item>Past executionTimeout (the fleet's clock, and at least min(timeout, TimeoutWallGrace) of
/// wall time) the process tree is killed: TimedOut / ExecutionTimedOut, ResponseCode 137 (the
/// agent's CommandStoppedPreemptivelyExitCode on Linux: 128 + SIGKILL).</item>
/// <item>Exit 194: the agent reboots the instance (ConnectionLost for RebootTime, a new boot-time in
/// $FAKE_STATE) and runs the same script again from the start; still InProgress; the output is
/// both runs' together; the result the second run's.</item>
/// <item>A script that ran the fake reboot ($FAKE_STATE/reboot-requested, its shell killed): the
/// same reboot; the agent was killed mid-script, so when it is back it reports the invocation
/// Failed (ResponseCode 137, the shell's SIGKILL): a guess at what the real agent reports; AWS
/// says to use exit 194 instead.</item>
/// </list>
/// </summary>
public sealed partial class SsmFleet
{
    /// <summary>Brings every agent and invocation up to now. The caller holds the fleet's lock.</summary>
    internal void Reconcile()
    {
        if (_disposed) return;
        if (RegisterLaunched) RegisterLaunchedNow();
        var now = Now;
        foreach (var instance in _instances)
        {
            if (instance.RebootingUntil is { } until && now >= until) EndReboot(instance, until);
            if (PingStatus(instance) == "Online") instance.LastPing = now;
        }
        // A step may start a reboot that kills other invocations' processes: go over a copy.
        foreach (var invocation in _invocations.Where(i => !i.Terminal).ToList()) Step(invocation, now);
    }

    /// <summary>The agent's ping status now: Online only while its EC2 instance runs, no reboot is under way and no test took it away.</summary>
    internal string PingStatus(SsmManagedInstance instance)
    {
        var now = Now;
        var ec2 = _ec2.InstanceById(instance.InstanceId);
        if (ec2 == null || _ec2.StateNow(ec2) != "running") return instance.AgentOverride == "Inactive" ? "Inactive" : "ConnectionLost";
        if (instance.RebootingUntil is { } until && now < until) return "ConnectionLost";
        // CreateImage without NoReboot reboots the instance too: the agent is away meanwhile.
        if (ec2.RebootedAt is { } rebooted && now >= rebooted && now < rebooted + _ec2.Settings.RebootTime) return "ConnectionLost";
        return instance.AgentOverride ?? "Online";
    }

    private bool Online(SsmManagedInstance instance) => PingStatus(instance) == "Online";

    private bool Ec2Running(string instanceId) => _ec2.InstanceById(instanceId) is { } ec2 && _ec2.StateNow(ec2) == "running";

    private bool InstanceGone(string instanceId)
    {
        var ec2 = _ec2.InstanceById(instanceId);
        return ec2 == null || _ec2.StateNow(ec2) is "terminated" or "shutting-down";
    }

    private void Step(SsmInvocation invocation, DateTimeOffset now)
    {
        var instance = Managed(invocation.InstanceId)!;
        var command = invocation.Command;
        if (invocation.Status == "Pending")
        {
            if (now >= command.ExpiresAfter) End(invocation, "TimedOut", "DeliveryTimedOut", -1, null);
            else if (InstanceGone(invocation.InstanceId)) End(invocation, "Failed", "Undeliverable", -1, null);
            else if (Online(instance) && now < command.RequestedAt + TimeSpan.FromSeconds(command.TimeoutSeconds)) StartRun(invocation, instance, now);
            return;
        }

        if (invocation.Process is { } process)
        {
            var exited = process.HasExited;
            if (exited && Online(instance))
            {
                // Seen ended once the agent can say so (an agent away reports when it is back).
                FinishRun(invocation, instance, now);
            }
            else if (!exited && now - invocation.RunStartedAt >= command.ExecutionTimeout
                && invocation.RunWall.Elapsed >= Min(command.ExecutionTimeout, TimeoutWallGrace))
            {
                invocation.Killed = SsmKill.Timeout;
                Kill(process);
                FinishRun(invocation, instance, now);
            }
            else if (now >= command.ExpiresAfter)
            {
                invocation.Killed = SsmKill.Expired;
                Kill(process);
                FinishRun(invocation, instance, now);
            }
            else if (!Ec2Running(invocation.InstanceId))
            {
                // The instance stopped or went away under the command, and the agent with it.
                invocation.Killed = SsmKill.Gone;
                Kill(process);
                FinishRun(invocation, instance, now);
            }
            if (invocation.Terminal || invocation.Process != null) return;
        }

        if (invocation.Status == "Cancelling")
        {
            if (now >= invocation.CancelRequestedAt + CancelTime) End(invocation, "Cancelled", "Cancelled", invocation.Runs > 0 ? 137 : -1, invocation.EndedAt ?? now);
            return;
        }

        // InProgress without a process: the agent is away (a reboot, a stopped instance) or back from it.
        if (now >= command.ExpiresAfter)
        {
            End(invocation, "TimedOut", "DeliveryTimedOut", -1, invocation.EndedAt);
            return;
        }
        if (!Online(instance)) return;
        if (invocation.ResumeAfterReboot)
        {
            invocation.ResumeAfterReboot = false;
            StartRun(invocation, instance, now);
        }
        else if (invocation.DiedInReboot is { } code)
        {
            Complete(invocation, code, now);
        }
    }

    /// <summary>Writes _script.sh and starts it: /bin/sh in the working directory, the fakes first on PATH, FAKE_STATE the state folder.</summary>
    private void StartRun(SsmInvocation invocation, SsmManagedInstance instance, DateTimeOffset now)
    {
        var command = invocation.Command;
        var dir = invocation.OrchestrationDirectory = Path.Combine(instance.AgentDirectory, "orchestration", command.CommandId, "awsrunShellScript", "0.awsrunshellscript");
        Directory.CreateDirectory(dir);
        var script = Path.Combine(dir, "_script.sh");
        File.WriteAllText(script, command.Script);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var start = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = instance.WorkingDirectory,
            UseShellExecute = false,
            // The shell's pid is the script's (exec): the fake reboot kills it, as a reboot kills the agent's child.
            ArgumentList = { "-c", "FAKE_SSM_SHELL_PID=$$; export FAKE_SSM_SHELL_PID; exec /bin/sh \"$1\" </dev/null >\"$2\" 2>\"$3\"", "sh", script, Path.Combine(dir, "stdout"), Path.Combine(dir, "stderr") },
        };
        // The agent's children see the agent's environment, not a login shell's (no HOME, as many find out).
        start.Environment.Clear();
        start.Environment["PATH"] = instance.BinDirectory + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        start.Environment["FAKE_STATE"] = instance.StateDirectory;
        start.Environment["AWS_SSM_INSTANCE_ID"] = instance.InstanceId;
        start.Environment["AWS_SSM_REGION_NAME"] = Region;
        var process = Process.Start(start)!;
        invocation.Process = process;
        invocation.Killed = SsmKill.None;
        invocation.Runs++;
        invocation.RunStartedAt = now;
        invocation.RunWall = Stopwatch.StartNew();
        invocation.StartedAt ??= now;
        invocation.Status = invocation.StatusDetails = "InProgress";
        var cap = Min(command.ExecutionTimeout, WallClockLimit);
        _ = Task.Run(async () =>
        {
            using var wait = new CancellationTokenSource(cap);
            try
            {
                await process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                lock (_ec2.Gate)
                    if (ReferenceEquals(invocation.Process, process) && invocation.Killed == SsmKill.None) invocation.Killed = SsmKill.WallClock;
                Kill(process);
            }
            catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
            {
                // Disposed after the fleet saw it end.
            }
        });
    }

    /// <summary>A run's process is done (ended, or killed by the fleet): its output is kept and the invocation moves on.</summary>
    private void FinishRun(SsmInvocation invocation, SsmManagedInstance instance, DateTimeOffset now)
    {
        var process = invocation.Process!;
        process.WaitForExit(5000);
        var exit = process.HasExited ? process.ExitCode : 137;
        process.Dispose();
        invocation.Process = null;
        invocation.Stdout.Append(ReadAll(Path.Combine(invocation.OrchestrationDirectory, "stdout")));
        invocation.Stderr.Append(ReadAll(Path.Combine(invocation.OrchestrationDirectory, "stderr")));
        var command = invocation.Command;
        switch (invocation.Killed)
        {
            case SsmKill.Timeout:
                var timedOutAt = invocation.RunStartedAt + command.ExecutionTimeout;
                End(invocation, "TimedOut", "ExecutionTimedOut", 137, timedOutAt <= now ? timedOutAt : now);
                return;
            case SsmKill.WallClock:
                End(invocation, "TimedOut", "ExecutionTimedOut", 137, now);
                return;
            case SsmKill.Expired:
                End(invocation, "TimedOut", "DeliveryTimedOut", -1, now);
                return;
            case SsmKill.Cancel:
                invocation.EndedAt = now;
                return;
            case SsmKill.Reboot:
                invocation.DiedInReboot = 137;
                invocation.EndedAt = now;
                return;
            case SsmKill.Gone:
                invocation.EndedAt = now;
                return;
        }

        var marker = Path.Combine(instance.StateDirectory, "reboot-requested");
        var rebootAsked = File.Exists(marker);
        if (rebootAsked) File.Delete(marker);
        if (exit == 194)
        {
            invocation.ResumeAfterReboot = true;
            StartReboot(instance, now, invocation);
        }
        else if (rebootAsked)
        {
            invocation.DiedInReboot = exit;
            invocation.EndedAt = now;
            StartReboot(instance, now, invocation);
        }
        else
        {
            Complete(invocation, exit, now);
        }
    }

    /// <summary>A run that ended by itself: Success on 0, else Failed with the agent's line after stderr.</summary>
    private void Complete(SsmInvocation invocation, int exit, DateTimeOffset at)
    {
        if (exit == 0)
        {
            End(invocation, "Success", "Success", 0, at);
            return;
        }
        if (invocation.Stderr.Length > 0 && invocation.Stderr[^1] != '\n') invocation.Stderr.Append('\n');
        invocation.Stderr.Append("failed to run commands: exit status ").Append(exit.ToString(CultureInfo.InvariantCulture));
        End(invocation, "Failed", "Failed", exit, at);
    }

    private void End(SsmInvocation invocation, string status, string details, int responseCode, DateTimeOffset? at)
    {
        invocation.Status = status;
        invocation.StatusDetails = details;
        invocation.ResponseCode = responseCode;
        invocation.ResumeAfterReboot = false;
        invocation.DiedInReboot = null;
        if (invocation.StartedAt != null) invocation.EndedAt = at ?? invocation.EndedAt ?? Now;
        Upload(invocation);
    }

    /// <summary>The instance reboots now: the agent is away for RebootTime, every other command's process dies with it.</summary>
    private void StartReboot(SsmManagedInstance instance, DateTimeOffset now, SsmInvocation asking)
    {
        instance.RebootingUntil = now + RebootTime;
        instance.Reboots++;
        foreach (var other in _invocations.Where(i => i.InstanceId == instance.InstanceId && i != asking && i.Process != null).ToList())
        {
            other.Killed = SsmKill.Reboot;
            Kill(other.Process!);
            FinishRun(other, instance, now);
        }
    }

    /// <summary>Back from a reboot: a new boot time (what the fake uptime -s prints), the agent Online again.</summary>
    private void EndReboot(SsmManagedInstance instance, DateTimeOffset bootedAt)
    {
        instance.RebootingUntil = null;
        File.WriteAllText(Path.Combine(instance.StateDirectory, "boot-time"),
            bootedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "\n");
    }

    /// <summary>Cancels the invocation: Pending ones never run (Cancelled at once); a running process is killed now, Cancelling for CancelTime, then Cancelled.</summary>
    private void Cancel(SsmInvocation invocation, DateTimeOffset now)
    {
        if (invocation.Terminal || invocation.Status == "Cancelling") return;
        if (invocation.Status == "Pending")
        {
            End(invocation, "Cancelled", "Cancelled", -1, null);
            return;
        }
        invocation.Status = invocation.StatusDetails = "Cancelling";
        invocation.CancelRequestedAt = now;
        invocation.ResumeAfterReboot = false;
        invocation.DiedInReboot = null;
        if (invocation.Process is { } process)
        {
            invocation.Killed = SsmKill.Cancel;
            Kill(process);
            FinishRun(invocation, Managed(invocation.InstanceId)!, now);
        }
    }

    /// <summary>Writes the whole output to the command's bucket, as the agent uploads it: stdout and stderr under the plugin's key, those that are not empty.</summary>
    private void Upload(SsmInvocation invocation)
    {
        var bucket = invocation.Command.OutputS3BucketName;
        if (bucket == null || invocation.Runs == 0 || !_buckets.Contains(bucket)) return;
        foreach (var (stream, text) in new[] { ("stdout", invocation.Stdout.ToString()), ("stderr", invocation.Stderr.ToString()) })
            if (text.Length > 0) _objects[(bucket, OutputKey(invocation, stream))] = Encoding.UTF8.GetBytes(text);
    }

    /// <summary>&lt;prefix&gt;/&lt;commandId&gt;/&lt;instanceId&gt;/awsrunShellScript/0.awsrunshellscript/stdout, as the agent names the objects.</summary>
    internal static string OutputKey(SsmInvocation invocation, string stream)
    {
        var prefix = invocation.Command.OutputS3KeyPrefix?.Trim('/');
        var key = $"{invocation.Command.CommandId}/{invocation.InstanceId}/awsrunShellScript/0.awsrunshellscript/{stream}";
        return string.IsNullOrEmpty(prefix) ? key : prefix + "/" + key;
    }

    private string OutputUrl(SsmInvocation invocation, string stream) =>
        invocation.Command.OutputS3BucketName is { } bucket ? $"https://s3.{Region}.amazonaws.com/{bucket}/{OutputKey(invocation, stream)}" : "";

    private static string ReadAll(string path)
    {
        try { return File.Exists(path) ? File.ReadAllText(path) : ""; }
        catch (IOException) { return ""; }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Kills the process and its children (the script's sleep, apt-get …), and waits for it.</summary>
    internal static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Gone meanwhile, or disposed.
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;

namespace Rebundle.Ec2Endpoint;

/// <summary>
/// AWS Systems Manager Run Command (JSON 1.1, <c>X-Amz-Target: AmazonSSM.&lt;Action&gt;</c>, SigV4
/// scope <c>ssm</c>) beside the EC2 fleet on the same URL, and the bit of S3 its output goes to
/// (GetObject, scope <c>s3</c>, path-style). It really runs what it is sent: each managed instance
/// (an EC2 instance of the fleet a test registered, <see cref="RegisterManagedInstance"/>) has a
/// throwaway folder; AWS-RunShellScript's <c>commands</c> become its _script.sh, run by
/// <c>/bin/sh</c> as a child process in the instance's working directory with PATH = the SSH tests'
/// fakes (apt-get, dpkg-query, systemctl, uptime; an SSM-aware reboot) first and FAKE_STATE = the
/// instance's state folder. Processes run outside the lock; the invocations' states follow at
/// each reconcile (every request and test accessor, under the fleet's one lock), times on the
/// fleet's clock (Ec2Settings.Now). The agent is Online only while the EC2 instance runs and no
/// test said otherwise (<see cref="SetAgentStatus"/>) and no reboot is under way.
/// Requests: SsmFleet.Requests.cs; the agent: SsmFleet.Agent.cs; S3: SsmFleet.S3.cs; HTTP: SsmFleet.Http.cs.
/// </summary>
public sealed partial class SsmFleet : IDisposable
{
    public const string SigningName = "ssm";
    public const string RunShellScript = "AWS-RunShellScript";

    /// <summary>The one step of AWS-RunShellScript (schema 1.2): GetCommandInvocation's PluginName, ListCommandInvocations' CommandPlugins[].Name.</summary>
    public const string PluginName = "aws:runShellScript";

    /// <summary>GetCommandInvocation's StandardOutputContent / StandardErrorContent: the first 24,000 characters.</summary>
    public const int StandardOutputLimit = 24000;

    /// <summary>ListCommandInvocations' CommandPlugins[].Output (Details=true): stdout and stderr in 2,500 characters, the agent's cut.</summary>
    public const int PluginOutputLimit = 2500;

    private readonly Ec2Fleet _ec2;
    private readonly List<SsmManagedInstance> _instances = new();
    private readonly List<SsmCommand> _commands = new();
    private readonly List<SsmInvocation> _invocations = new();
    private readonly HashSet<string> _buckets = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Bucket, string Key), byte[]> _objects = new();
    private bool _disposed;

    internal SsmFleet(Ec2Fleet ec2) => _ec2 = ec2;

    public SsmFaults Faults { get; } = new();

    /// <summary>How long after SendCommand GetCommandInvocation still answers InvocationDoesNotExist (real SSM: a moment; aws/aws-sdk #86). Fake time.</summary>
    public TimeSpan NotYetVisibleFor { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a reboot (exit 194, or the fake reboot) keeps the agent away (ConnectionLost). Fake time.</summary>
    public TimeSpan RebootTime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long CancelCommand shows Cancelling before Cancelled (the process is killed at once). Fake time.</summary>
    public TimeSpan CancelTime { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Wall time a GetCommandInvocation waits (outside the lock) for a running process to end
    /// before it answers. Tests' manual clocks jump ahead when the client sleeps, faster than any
    /// real process runs; this lets a quick command end before the fake clock runs past it.
    /// </summary>
    public TimeSpan SettleTime { get; set; } = TimeSpan.FromSeconds(0.5);

    /// <summary>
    /// executionTimeout is measured on the fleet's clock; a process is killed for it only once it
    /// has also run this long in wall time (or the whole timeout, if shorter), so a manual clock
    /// that jumped ahead does not kill a command that simply had no wall time yet.
    /// </summary>
    public TimeSpan TimeoutWallGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The most wall time any process may run (or its executionTimeout, if shorter), whatever the fleet's clock says: then it is killed and ends TimedOut.</summary>
    public TimeSpan WallClockLimit { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The most bytes (UTF-8) all SendCommand parameter values may take together; more is
    /// InvalidParameters. The number is the test endpoint's guess: AWS documents no exact limit.
    /// </summary>
    public int MaxParametersSize { get; set; } = 64 * 1024;

    /// <summary>The fakes copied into each instance's bin folder (default: SsmFakes beside the endpoint's assembly).</summary>
    public string FakesDirectory { get; set; } = Path.Combine(AppContext.BaseDirectory, "SsmFakes");

    private DateTimeOffset Now => _ec2.Settings.Now();

    private string Region => _ec2.Settings.Region;

    // ---- What tests set up (not requests, not logged) -------------------------------------------

    /// <summary>
    /// Makes the EC2 instance <paramref name="instanceId"/> a managed instance whose agent is Online
    /// while the instance runs: a fresh folder with the fakes, a state folder as the SSH fixture
    /// leaves it (boot-time <paramref name="bootTime"/>, an empty Chef cache chef/cookbooks).
    /// </summary>
    public SsmManagedInstance RegisterManagedInstance(string instanceId, string platformName = "Ubuntu", string platformVersion = "22.04",
        string agentVersion = "3.3.1611.0", string bootTime = "2026-01-01 00:00:00")
    {
        lock (_ec2.Gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Reconcile();
            if (_ec2.InstanceById(instanceId) == null) throw new ArgumentException($"There is no EC2 instance {instanceId} to register with Systems Manager.");
            if (_instances.Any(i => i.InstanceId == instanceId)) throw new ArgumentException($"{instanceId} is a managed instance already.");
            return Register(instanceId, platformName, platformVersion, agentVersion, bootTime);
        }
    }

    /// <summary>
    /// Every instance the fleet launches from now on becomes a managed instance once it runs (its
    /// image's agent registers it at boot, as an AMI with the SSM agent and an instance profile
    /// does), with the launch files (<see cref="AddLaunchFile"/>) its tags match. The seed's --ssm.
    /// </summary>
    public bool RegisterLaunched { get; set; }

    /// <summary>
    /// A file every instance registered by <see cref="RegisterLaunched"/> from now on gets in its
    /// state folder when its ttm:farm and ttm:alias tags match (null: any): what its first boot
    /// leaves, e.g. chef/failed-run-data.json for a Chef run that failed there.
    /// </summary>
    public void AddLaunchFile(string? farm, string? alias, string relativePath, string content)
    {
        if (string.IsNullOrEmpty(relativePath) || Path.IsPathRooted(relativePath) || relativePath.Split('/').Contains(".."))
            throw new ArgumentException($"A launch file is a path inside the state folder, such as chef/failed-run-data.json; got '{relativePath}'.");
        lock (_ec2.Gate) _launchFiles.Add((farm, alias, relativePath, content));
    }

    private readonly List<(string? Farm, string? Alias, string Path, string Content)> _launchFiles = new();

    /// <summary>Registers the running instances not managed yet, with their launch files. The caller holds the lock (Reconcile).</summary>
    private void RegisterLaunchedNow()
    {
        foreach (var ec2 in _ec2.AllInstances().Where(i => _ec2.StateNow(i) == "running" && _instances.All(m => m.InstanceId != i.Id)).ToList())
        {
            var instance = Register(ec2.Id, "Ubuntu", "22.04", "3.3.1611.0", "2026-01-01 00:00:00");
            var farm = ec2.Tags["ttm:farm"];
            var alias = ec2.Tags["ttm:alias"];
            foreach (var file in _launchFiles.Where(f => (f.Farm == null || f.Farm == farm) && (f.Alias == null || f.Alias == alias)))
            {
                var path = Path.Combine(instance.StateDirectory, file.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, file.Content);
            }
        }
    }

    /// <summary>A new managed instance's folder, fakes and state. The caller holds the lock.</summary>
    private SsmManagedInstance Register(string instanceId, string platformName, string platformVersion, string agentVersion, string bootTime)
    {
        var root = Directory.CreateTempSubdirectory($"rebundle-ssm-{instanceId}-").FullName;
        var instance = new SsmManagedInstance(instanceId, root)
        {
            PlatformName = platformName, PlatformVersion = platformVersion, AgentVersion = agentVersion, RegisteredAt = Now, LastPing = Now,
        };
        foreach (var dir in new[] { instance.WorkingDirectory, instance.StateDirectory, instance.BinDirectory, instance.AgentDirectory })
            Directory.CreateDirectory(dir);
        if (!Directory.Exists(FakesDirectory)) throw new InvalidOperationException($"The SSM fakes are not at {FakesDirectory} (the endpoint's build copies them there).");
        foreach (var fake in Directory.GetFiles(FakesDirectory))
        {
            var copy = Path.Combine(instance.BinDirectory, Path.GetFileName(fake));
            File.Copy(fake, copy);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(copy, (UnixFileMode)Convert.ToInt32("755", 8));
        }
        File.WriteAllText(Path.Combine(instance.StateDirectory, "boot-time"), bootTime + "\n");
        Directory.CreateDirectory(Path.Combine(instance.StateDirectory, "chef", "cookbooks"));
        _instances.Add(instance);
        return instance;
    }

    /// <summary>Registers every running EC2 instance not managed yet (the seed's --ssm); returns them.</summary>
    public IReadOnlyList<SsmManagedInstance> RegisterRunningInstances()
    {
        List<string> ids;
        lock (_ec2.Gate)
        {
            _ec2.AutoScaling.Reconcile();
            ids = _ec2.AllInstances().Where(i => _ec2.StateNow(i) == "running" && _instances.All(m => m.InstanceId != i.Id)).Select(i => i.Id).ToList();
        }
        return ids.Select(id => RegisterManagedInstance(id)).ToList();
    }

    /// <summary>
    /// The agent of <paramref name="instanceId"/> from now on: ConnectionLost (or Inactive) whatever
    /// the instance does, or Online: as the instance's state and reboots make it again.
    /// </summary>
    public void SetAgentStatus(string instanceId, string status)
    {
        lock (_ec2.Gate)
        {
            Reconcile();
            var instance = Managed(instanceId) ?? throw new ArgumentException($"{instanceId} is not a managed instance.");
            instance.AgentOverride = status switch
            {
                "Online" => null,
                "ConnectionLost" or "Inactive" => status,
                _ => throw new ArgumentException($"Agent status {status}: Online, ConnectionLost or Inactive."),
            };
            Reconcile();
        }
    }

    /// <summary>An S3 bucket the agent can write command output to (output for any other bucket is lost, as an upload to a missing bucket fails).</summary>
    public void AddBucket(string name)
    {
        lock (_ec2.Gate) _buckets.Add(name);
    }

    public IReadOnlyList<SsmManagedInstance> ManagedInstances
    {
        get { lock (_ec2.Gate) return _instances.ToList(); }
    }

    /// <summary>Each managed instance as DescribeInstanceInformation would show it now.</summary>
    public IReadOnlyList<SsmInstanceView> InstanceStates
    {
        get
        {
            lock (_ec2.Gate)
            {
                Reconcile();
                return _instances.Select(i => new SsmInstanceView(i.InstanceId, PingStatus(i), i.LastPing, i.PlatformName, i.PlatformVersion, i.AgentVersion,
                    i.WorkingDirectory, i.StateDirectory, i.Reboots)).ToList();
            }
        }
    }

    /// <summary>Every invocation so far, oldest first, as it is now (the fleet brought up to now first).</summary>
    public IReadOnlyList<SsmInvocationView> Invocations
    {
        get
        {
            lock (_ec2.Gate)
            {
                Reconcile();
                return _invocations.Select(View).ToList();
            }
        }
    }

    public SsmInvocationView Invocation(string commandId, string instanceId) =>
        Invocations.FirstOrDefault(i => i.CommandId == commandId && i.InstanceId == instanceId)
        ?? throw new ArgumentException($"There is no invocation of {commandId} on {instanceId}.");

    /// <summary>The S3 object the agent wrote, or null.</summary>
    public byte[]? S3Object(string bucket, string key)
    {
        lock (_ec2.Gate)
        {
            Reconcile();
            return _objects.TryGetValue((bucket, key), out var bytes) ? bytes : null;
        }
    }

    private static SsmInvocationView View(SsmInvocation i) => new(i.Command.CommandId, i.InstanceId, i.Command.DocumentName, i.Command.Commands, i.Command.Comment,
        i.Status, i.StatusDetails, i.ResponseCode, i.Stdout.ToString(), i.Stderr.ToString(), i.Command.RequestedAt, i.StartedAt, i.EndedAt, i.Runs,
        i.Command.ExecutionTimeout, i.Command.TimeoutSeconds, i.Command.OutputS3BucketName, i.Command.OutputS3KeyPrefix);

    private SsmManagedInstance? Managed(string instanceId) => _instances.FirstOrDefault(i => i.InstanceId == instanceId);

    /// <summary>Kills every process still running and deletes the instances' folders.</summary>
    public void Dispose()
    {
        List<Process> running;
        List<string> roots;
        lock (_ec2.Gate)
        {
            if (_disposed) return;
            _disposed = true;
            running = _invocations.Where(i => i.Process != null).Select(i => i.Process!).ToList();
            roots = _instances.Select(i => i.Root).ToList();
        }
        foreach (var process in running) Kill(process);
        foreach (var root in roots)
        {
            try { Directory.Delete(root, true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}

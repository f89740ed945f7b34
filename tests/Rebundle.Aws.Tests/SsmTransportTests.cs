using System;
using System.IO;
using System.Linq;
using System.Threading;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Remote;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>
/// Remote work over Systems Manager, Rebundle's side: the AWS backend's SSM transport (the real
/// AWSSDK.SimpleSystemsManagement and S3 clients) against the loopback endpoint, whose agents run
/// the commands for real. What SSM users trip over, each as an operator would meet it.
/// </summary>
public class SsmTransportTests : IDisposable
{
    private readonly AwsFleet _fleet = new();
    private readonly Server _server;
    private readonly SsmManagedInstanceInfo _managed;

    private sealed record SsmManagedInstanceInfo(string StateDirectory);

    public SsmTransportTests()
    {
        _server = _fleet.Fleet.GetServers(new[] { "Dev" }, new[] { "Sidekiq" }, null).Items.Single();
        _managed = new SsmManagedInstanceInfo(_fleet.Ec2.Ssm.RegisterManagedInstance(_server.Id).StateDirectory);
        _fleet.Backend.SsmTransport.PollInterval = TimeSpan.FromSeconds(1);
    }

    public void Dispose() => _fleet.Dispose();

    private SshConnectionSettings Target => new()
    {
        ServerName = _server.Name, Farm = _server.Farm, Address = _server.Id, InstanceId = _server.Id, Transport = RemoteTransport.Ssm,
    };

    private IRemoteShell Shell(string? bucket = null) => _fleet.Backend.SsmTransport.Shells(bucket).Connect(Target, CancellationToken.None);

    [Fact]
    public void A_command_runs_over_SSM_with_its_exit_code_output_and_errors_as_over_SSH()
    {
        using var shell = Shell();

        var result = shell.Run("echo hello; echo oops >&2; exit 3", TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.Equal((3, "hello\n", "oops"), (result.ExitCode, result.StdOut, result.StdErr.Trim()));
        Assert.Equal(RemoteTransport.Ssm, result.Transport);
        Assert.False(result.OutputTruncated);
        // SSM did not know the invocation at first: that was waited out, not reported.
        Assert.Contains(_fleet.Ec2.Requests, r => r.Action == "GetCommandInvocation" && r.ErrorCode == "InvocationDoesNotExist");
    }

    [Fact]
    public void Output_beyond_24000_characters_is_read_whole_from_the_bucket_or_marked_truncated_never_cut_silently()
    {
        _fleet.Ec2.Ssm.AddBucket("ops-ssm");
        const string command = "i=0; while [ $i -lt 4000 ]; do echo line-$i-xxxxxxxx; i=$((i+1)); done";

        var cut = Shell().Run(command, TimeSpan.FromMinutes(1), CancellationToken.None);
        var whole = Shell("ops-ssm").Run(command, TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.True(cut.OutputTruncated);
        Assert.False(whole.OutputTruncated);
        Assert.True(whole.StdOut.Length > 60000, $"{whole.StdOut.Length} characters");
        Assert.EndsWith("line-3999-xxxxxxxx\n", whole.StdOut);
    }

    [Fact]
    public void An_offline_agent_is_TtmServerUnreachable_naming_its_status_before_anything_is_sent()
    {
        _fleet.Ec2.Ssm.SetAgentStatus(_server.Id, "ConnectionLost");

        var error = Assert.Throws<TtmException>(() => Shell());

        Assert.Equal(TtmErrorCode.ServerUnreachable, error.Code);
        Assert.Contains("ConnectionLost", error.Message);
        Assert.DoesNotContain(_fleet.Ec2.Requests, r => r.Action == "SendCommand");
    }

    [Fact]
    public void A_command_that_outlives_its_timeout_is_TtmSshTimeout()
    {
        using var shell = Shell();

        var error = Assert.Throws<TtmException>(() => shell.Run("sleep 30", TimeSpan.FromSeconds(2), CancellationToken.None));

        Assert.Equal(TtmErrorCode.SshTimeout, error.Code);
    }

    [Fact]
    public void Ctrl_C_mid_command_cancels_it_on_the_server_and_says_so()
    {
        using var shell = Shell();
        using var ctrlC = new CancellationTokenSource();
        var marker = Path.Combine(_managed.StateDirectory, "finished");
        var watch = _fleet.Slept;
        _fleet.Slept = () => { if (_fleet.Calls("GetCommandInvocation") >= 3) ctrlC.Cancel(); };

        var stopped = Assert.ThrowsAny<OperationCanceledException>(() => shell.Run($"sleep 5; touch '{marker}'", TimeSpan.FromMinutes(1), ctrlC.Token));
        _fleet.Slept = watch;

        Assert.Contains("CancelCommand", stopped.Message);
        Assert.Contains(_fleet.Ec2.Requests, r => r.Action == "CancelCommand" && r.Status == 200);
        Thread.Sleep(TimeSpan.FromSeconds(6));
        Assert.False(File.Exists(marker), "the command was killed on the server");
    }

    [Fact]
    public void A_reboot_through_exit_194_ends_once_the_server_is_back_with_a_new_boot_time()
    {
        using var shell = Shell();
        var before = shell.Run("uptime -s", TimeSpan.FromMinutes(1), CancellationToken.None).StdOut.Trim();

        var reboot = shell.Run(ShellText.RebootThroughAgent("test"), TimeSpan.FromMinutes(5), CancellationToken.None);

        Assert.Equal(0, reboot.ExitCode);
        using var again = Shell();
        Assert.NotEqual(before, again.Run("uptime -s", TimeSpan.FromMinutes(1), CancellationToken.None).StdOut.Trim());
    }

    [Fact]
    public void An_agent_that_never_takes_the_command_is_TtmServerUnreachable_not_a_result()
    {
        using var shell = Shell();
        _fleet.Ec2.Ssm.SetAgentStatus(_server.Id, "ConnectionLost"); // gone between the check and the command

        var error = Assert.Throws<TtmException>(() => shell.Run("true", TimeSpan.FromSeconds(10), CancellationToken.None));

        Assert.Equal(TtmErrorCode.ServerUnreachable, error.Code);
        Assert.Contains("DeliveryTimedOut", error.Message);
    }

    /// <summary>
    /// The preflight of a run whose remote work goes over SSM: each of the three ssm: actions it
    /// can ask about without running anything is named when the policy lacks it; nothing is sent
    /// to a server, and a run with no SSM servers asks SSM nothing.
    /// </summary>
    [Theory]
    [InlineData("DescribeInstanceInformation")]
    [InlineData("GetCommandInvocation")]
    [InlineData("CancelCommand")]
    public void The_preflight_names_a_missing_ssm_action_and_sends_no_command(string denied)
    {
        _fleet.Ec2.Ssm.Faults.DeniedActions.Add(denied);

        var missing = _fleet.Backend.MissingPermissions(new Backends.PermissionCheckRequest { ToCommand = new[] { _server } });
        var none = _fleet.Backend.MissingPermissions(new Backends.PermissionCheckRequest());

        Assert.Equal("ssm:" + denied, Assert.Single(missing).Permission);
        Assert.Empty(none);
        Assert.Empty(_fleet.Ec2.Ssm.Invocations);
    }

    /// <summary>docs/aws.md's SSM policy names exactly the actions the SSM calls need.</summary>
    [Fact]
    public void The_documented_IAM_policy_names_every_SSM_action_called()
    {
        var documented = DocumentedPolicy.Actions("ssm").Concat(DocumentedPolicy.Actions("s3"));

        Assert.Equal(Rebundle.Aws.Ssm.SsmCalls.Actions.OrderBy(a => a), documented.OrderBy(a => a));
    }
}

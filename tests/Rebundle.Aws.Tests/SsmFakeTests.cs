using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using Rebundle.Ec2Endpoint;
using Rebundle.Runbook;
using Xunit;
using Endpoint = Rebundle.Ec2Endpoint.Ec2Endpoint;

namespace Rebundle.Aws.Tests;

/// <summary>
/// The loopback endpoint's Systems Manager part, as a user of the fake relies on it: driven with
/// the real AWSSDK.SimpleSystemsManagement and AWSSDK.S3 clients over HTTP, on a manual clock,
/// against runbook-seeded EC2 instances registered as managed instances whose agents really run
/// the commands (the SSH tests' fakes on PATH).
/// </summary>
public class SsmFakeTests
{
    private const string Bucket = "ttm-ssm-output";

    [Fact]
    public async Task A_command_really_runs_unknown_at_first_then_Failed_with_its_exit_code_and_the_agents_line_after_stderr()
    {
        using var world = new World();

        var id = await world.Send("echo hello", "echo oops >&2", "exit 3");

        // Right after SendCommand SSM does not know the invocation yet (aws/aws-sdk #86).
        var unknown = await Assert.ThrowsAsync<InvocationDoesNotExistException>(() => world.Get(id));
        Assert.Equal(("InvocationDoesNotExist", HttpStatusCode.BadRequest), (unknown.ErrorCode, unknown.StatusCode));
        var done = await world.WaitUntilDone(id);

        Assert.Equal(("Failed", "Failed", 3), (done.Status.Value, done.StatusDetails, done.ResponseCode));
        Assert.Equal("hello\n", done.StandardOutputContent);
        Assert.Equal("oops\nfailed to run commands: exit status 3", done.StandardErrorContent);
        Assert.Equal(("", "", SsmFleet.PluginName), (done.StandardOutputUrl, done.StandardErrorUrl, done.PluginName));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", done.ExecutionStartDateTime);
        Assert.Matches(@"^PT\d+(\.\d+)?S$", done.ExecutionElapsedTime);
        var invocation = world.Ec2.Ssm.Invocation(id, world.InstanceId);
        Assert.Equal(new[] { "echo hello", "echo oops >&2", "exit 3" }, invocation.Commands);
        Assert.Equal(1, invocation.Runs);
        Assert.Contains(world.Ec2.Requests, r => r.Service == "ssm" && r.Action == "SendCommand" && r.Status == 200 && r.IsMutating);
        Assert.Contains(world.Ec2.Requests, r => r.Service == "ssm" && r.Action == "GetCommandInvocation" && r.ErrorCode == "InvocationDoesNotExist" && !r.IsMutating);
    }

    [Fact]
    public async Task The_script_runs_in_the_instances_working_directory_with_the_agents_bare_environment()
    {
        using var world = new World();

        var done = await world.WaitUntilDone(await world.Send("pwd", "echo \"HOME=${HOME:-unset} STATE=$FAKE_STATE ID=$AWS_SSM_INSTANCE_ID\"", "echo $PATH"));

        Assert.Equal(("Success", 0), (done.Status.Value, done.ResponseCode));
        var lines = done.StandardOutputContent.Split('\n');
        Assert.Equal(world.Managed.WorkingDirectory, lines[0]);
        Assert.Equal($"HOME=unset STATE={world.Managed.StateDirectory} ID={world.InstanceId}", lines[1]);
        Assert.Equal(world.Managed.BinDirectory + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", lines[2]);
    }

    [Fact]
    public async Task The_ssh_tests_fakes_are_on_PATH_apt_get_update_works_and_uptime_prints_the_boot_time()
    {
        using var world = new World();

        var done = await world.WaitUntilDone(await world.Send("apt-get update", "dpkg-query -W -f='${Status}' curl || echo no curl", "uptime -s", "systemctl is-active nginx || true"));

        Assert.Equal("Success", done.Status.Value);
        Assert.Contains("Reading package lists...", done.StandardOutputContent);
        Assert.Contains("no curl", done.StandardOutputContent);
        Assert.Contains("2026-01-01 00:00:00", done.StandardOutputContent);
        Assert.Contains("inactive", done.StandardOutputContent);
        Assert.Contains("update", File.ReadAllText(Path.Combine(world.Managed.StateDirectory, "apt.log")));
        Assert.True(Directory.Exists(Path.Combine(world.Managed.StateDirectory, "chef", "cookbooks")));
    }

    [Fact]
    public async Task Output_is_cut_at_24000_characters_and_2500_in_the_list_and_is_whole_in_S3()
    {
        using var world = new World();
        world.Ec2.Ssm.AddBucket(Bucket);

        var id = await world.Send(new SendCommandRequest
        {
            DocumentName = "AWS-RunShellScript", InstanceIds = new List<string> { world.InstanceId },
            Parameters = new Dictionary<string, List<string>> { ["commands"] = new() { "head -c 30000 /dev/zero | tr '\\0' a", "echo tail-err >&2" } },
            OutputS3BucketName = Bucket, OutputS3KeyPrefix = "rebundle",
        });
        var done = await world.WaitUntilDone(id);

        Assert.Equal("Success", done.Status.Value);
        Assert.Equal(new string('a', 24000), done.StandardOutputContent);
        Assert.Equal("tail-err\n", done.StandardErrorContent);
        var key = $"rebundle/{id}/{world.InstanceId}/awsrunShellScript/0.awsrunshellscript/stdout";
        Assert.Equal($"https://s3.us-east-1.amazonaws.com/{Bucket}/{key}", done.StandardOutputUrl);
        var listed = await world.Ssm.ListCommandInvocationsAsync(new ListCommandInvocationsRequest { CommandId = id, Details = true });
        var plugin = listed.CommandInvocations.Single().CommandPlugins.Single();
        Assert.Equal((SsmFleet.PluginName, "Success", 2500), (plugin.Name, plugin.Status.Value, plugin.Output.Length));
        Assert.EndsWith("\n---Output truncated---\n----------ERROR-------\ntail-err\n", plugin.Output);
        Assert.Empty((await world.Ssm.ListCommandInvocationsAsync(new ListCommandInvocationsRequest { CommandId = id })).CommandInvocations.Single().CommandPlugins ?? new List<CommandPlugin>());

        using var s3 = world.S3();
        using var whole = await s3.GetObjectAsync(Bucket, key);
        Assert.Equal(new string('a', 30000), await new StreamReader(whole.ResponseStream).ReadToEndAsync());
        var missing = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectAsync(Bucket, key.Replace("stdout", "nothing")));
        Assert.Equal(("NoSuchKey", HttpStatusCode.NotFound), (missing.ErrorCode, missing.StatusCode));
        var noBucket = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectAsync("someone-elses", key));
        Assert.Equal("NoSuchBucket", noBucket.ErrorCode);
        world.Ec2.Ssm.Faults.DeniedActions.Add("s3:GetObject");
        var denied = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectAsync(Bucket, key));
        Assert.Equal(("AccessDenied", HttpStatusCode.Forbidden), (denied.ErrorCode, denied.StatusCode));
        Assert.Contains(world.Ec2.Requests, r => r.Service == "s3" && r.Action == "GetObject" && r.Status == 200);
    }

    [Fact]
    public async Task Past_its_executionTimeout_a_command_is_killed_and_ends_TimedOut()
    {
        using var world = new World();

        var id = await world.Send(new SendCommandRequest
        {
            DocumentName = "AWS-RunShellScript", InstanceIds = new List<string> { world.InstanceId },
            Parameters = new Dictionary<string, List<string>> { ["commands"] = new() { "echo started", "sleep 2", "touch late" }, ["executionTimeout"] = new() { "1" } },
        });
        var done = await world.WaitUntilDone(id);

        Assert.Equal(("TimedOut", "ExecutionTimedOut", 137), (done.Status.Value, done.StatusDetails, done.ResponseCode));
        Assert.Equal("started\n", done.StandardOutputContent);
        Thread.Sleep(TimeSpan.FromSeconds(2.5));
        Assert.False(File.Exists(Path.Combine(world.Managed.WorkingDirectory, "late")), "the killed script went on");
    }

    [Fact]
    public async Task CancelCommand_kills_the_running_process_Cancelling_briefly_then_Cancelled()
    {
        using var world = new World();
        var id = await world.Send("sleep 2", "touch marker");
        world.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("InProgress", (await world.Get(id)).Status.Value);

        await world.Ssm.CancelCommandAsync(new CancelCommandRequest { CommandId = id, InstanceIds = new List<string> { world.InstanceId } });

        Assert.Equal("Cancelling", (await world.Get(id)).Status.Value);
        world.Clock.Advance(world.Ec2.Ssm.CancelTime);
        var cancelled = await world.Get(id);
        Assert.Equal(("Cancelled", "Cancelled", 137), (cancelled.Status.Value, cancelled.StatusDetails, cancelled.ResponseCode));
        Thread.Sleep(TimeSpan.FromSeconds(2.5));
        Assert.False(File.Exists(Path.Combine(world.Managed.WorkingDirectory, "marker")), "the cancelled script went on");
        var unknown = await Assert.ThrowsAsync<InvalidCommandIdException>(() => world.Ssm.CancelCommandAsync(new CancelCommandRequest { CommandId = Guid.NewGuid().ToString() }));
        Assert.Equal("InvalidCommandId", unknown.ErrorCode);
    }

    [Fact]
    public async Task Exit_194_reboots_the_instance_and_runs_the_same_script_again_which_goes_on_by_its_marker()
    {
        using var world = new World();
        var id = await world.Send(
            "if [ -f rebooted-once ]; then echo second run; uptime -s; exit 0; fi",
            "touch rebooted-once", "echo first run", "exit 194");
        world.Clock.Advance(TimeSpan.FromSeconds(2));
        await world.WaitUntil(() => world.Ec2.Ssm.InstanceStates.Single(i => i.InstanceId == world.InstanceId).Reboots == 1);

        Assert.Equal("ConnectionLost", await world.PingStatus());
        Assert.Equal("InProgress", (await world.Get(id)).Status.Value);
        var rebootedAt = world.Clock.UtcNow + world.Ec2.Ssm.RebootTime;
        var done = await world.WaitUntilDone(id);

        Assert.Equal(("Success", 0), (done.Status.Value, done.ResponseCode));
        var bootTime = rebootedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss");
        Assert.Equal($"first run\nsecond run\n{bootTime}\n", done.StandardOutputContent);
        Assert.Equal(bootTime + "\n", File.ReadAllText(Path.Combine(world.Managed.StateDirectory, "boot-time")));
        Assert.Equal(2, world.Ec2.Ssm.Invocation(id, world.InstanceId).Runs);
        Assert.Equal("Online", await world.PingStatus());
    }

    [Fact]
    public async Task A_script_that_runs_reboot_dies_there_the_instance_reboots_and_the_invocation_ends_Failed_when_the_agent_is_back()
    {
        using var world = new World();
        var id = await world.Send("echo before", "reboot", "echo after");
        world.Clock.Advance(TimeSpan.FromSeconds(2));
        await world.WaitUntil(() => world.Ec2.Ssm.InstanceStates.Single(i => i.InstanceId == world.InstanceId).Reboots == 1);

        Assert.Equal("ConnectionLost", await world.PingStatus());
        Assert.Equal("InProgress", (await world.Get(id)).Status.Value);
        var done = await world.WaitUntilDone(id);

        Assert.Equal(("Failed", "Failed", 137), (done.Status.Value, done.StatusDetails, done.ResponseCode));
        Assert.Equal("before\n", done.StandardOutputContent);
        Assert.Equal("reboot \n", File.ReadAllText(Path.Combine(world.Managed.StateDirectory, "reboot.log")));
        Assert.False(File.Exists(Path.Combine(world.Managed.StateDirectory, "reboot-requested")));
        Assert.NotEqual("2026-01-01 00:00:00\n", File.ReadAllText(Path.Combine(world.Managed.StateDirectory, "boot-time")));
        Assert.Equal("Online", await world.PingStatus());
    }

    [Fact]
    public async Task An_offline_agent_shows_in_DescribeInstanceInformation_and_a_command_to_it_stays_Pending_then_DeliveryTimedOut()
    {
        using var world = new World();
        world.Ec2.Ssm.SetAgentStatus(world.InstanceId, "ConnectionLost");

        var info = (await world.Ssm.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest
        {
            Filters = new List<InstanceInformationStringFilter> { new() { Key = "InstanceIds", Values = new List<string> { world.InstanceId } } },
        })).InstanceInformationList.Single();
        Assert.Equal(("ConnectionLost", "Linux", "Ubuntu"), (info.PingStatus.Value, info.PlatformType.Value, info.PlatformName));
        var id = await world.Send(new SendCommandRequest
        {
            DocumentName = "AWS-RunShellScript", InstanceIds = new List<string> { world.InstanceId }, TimeoutSeconds = 30,
            Parameters = new Dictionary<string, List<string>> { ["commands"] = new() { "touch ran" }, ["executionTimeout"] = new() { "10" } },
        });
        world.Clock.Advance(TimeSpan.FromSeconds(39));
        var pending = await world.Get(id);
        Assert.Equal(("Pending", -1), (pending.Status.Value, pending.ResponseCode));
        world.Clock.Advance(TimeSpan.FromSeconds(1));
        var timedOut = await world.Get(id);

        Assert.Equal(("TimedOut", "DeliveryTimedOut", -1, ""), (timedOut.Status.Value, timedOut.StatusDetails, timedOut.ResponseCode, timedOut.ExecutionStartDateTime));
        Assert.False(File.Exists(Path.Combine(world.Managed.WorkingDirectory, "ran")));
        world.Ec2.Ssm.SetAgentStatus(world.InstanceId, "Online");
        Assert.Equal("Online", await world.PingStatus());
    }

    [Fact]
    public async Task The_agent_is_Online_only_while_its_EC2_instance_runs_and_only_managed_instances_are_listed()
    {
        using var world = new World();
        var booting = world.Ec2.AddInstance(world.Ec2.Images[0].Id, RunbookSeed.Tags(("Name", "booting")), running: false);
        world.Ec2.Ssm.RegisterManagedInstance(booting.Id, platformName: "Amazon Linux", platformVersion: "2023");

        var all = (await world.Ssm.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest())).InstanceInformationList;
        Assert.Equal(new[] { world.InstanceId, booting.Id }, all.Select(i => i.InstanceId));
        Assert.Equal("ConnectionLost", all[1].PingStatus.Value);
        var online = (await world.Ssm.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest
        {
            Filters = new List<InstanceInformationStringFilter> { new() { Key = "PingStatus", Values = new List<string> { "Online" } } },
        })).InstanceInformationList;
        Assert.Equal(new[] { world.InstanceId }, online.Select(i => i.InstanceId));
        world.Clock.Advance(world.Ec2.Settings.BootTime);
        Assert.Equal("Online", await world.PingStatus(booting.Id));
        var unmanaged = world.Ec2.Instances.First(i => world.Ec2.Ssm.ManagedInstances.All(m => m.InstanceId != i.Id)).Id;
        var none = await world.Ssm.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest
        {
            Filters = new List<InstanceInformationStringFilter> { new() { Key = "InstanceIds", Values = new List<string> { unmanaged } } },
        });
        Assert.Empty(none.InstanceInformationList);
        var refused = await Assert.ThrowsAsync<InvalidInstanceIdException>(() => world.Send(new SendCommandRequest
        {
            DocumentName = "AWS-RunShellScript", InstanceIds = new List<string> { unmanaged },
            Parameters = new Dictionary<string, List<string>> { ["commands"] = new() { "true" } },
        }));
        Assert.Equal($"Instances [[{unmanaged}]] not in a valid state for account 123456789012", refused.Message);
    }

    [Fact]
    public async Task DescribeInstanceInformation_pages_by_MaxResults_5_to_50()
    {
        using var world = new World();
        foreach (var instance in world.Ec2.Instances.Where(i => world.Ec2.Ssm.ManagedInstances.All(m => m.InstanceId != i.Id)).Take(6))
            world.Ec2.Ssm.RegisterManagedInstance(instance.Id);

        var first = await world.Ssm.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest { MaxResults = 5 });
        var second = await world.Ssm.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest { MaxResults = 5, NextToken = first.NextToken });

        Assert.Equal((5, 2), (first.InstanceInformationList.Count, second.InstanceInformationList.Count));
        Assert.True(string.IsNullOrEmpty(second.NextToken));
        var tooFew = await Assert.ThrowsAnyAsync<AmazonSimpleSystemsManagementException>(() => world.Ssm.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest { MaxResults = 3 }));
        Assert.Equal("ValidationException", tooFew.ErrorCode);
        Assert.Contains("greater than or equal to 5", tooFew.Message);
        await Assert.ThrowsAsync<InvalidNextTokenException>(() => world.Ssm.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest { NextToken = "nonsense" }));
        await Assert.ThrowsAsync<InvalidFilterKeyException>(() => world.Ssm.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest
        {
            Filters = new List<InstanceInformationStringFilter> { new() { Key = "Colour", Values = new List<string> { "blue" } } },
        }));
    }

    [Fact]
    public async Task SendCommand_is_as_strict_as_SSM_document_instances_limits_and_parameters()
    {
        using var world = new World();
        Task<string> Send(Action<SendCommandRequest> change)
        {
            var request = new SendCommandRequest
            {
                DocumentName = "AWS-RunShellScript", InstanceIds = new List<string> { world.InstanceId },
                Parameters = new Dictionary<string, List<string>> { ["commands"] = new() { "true" } },
            };
            change(request);
            return world.Send(request);
        }

        await Assert.ThrowsAsync<InvalidDocumentException>(() => Send(r => r.DocumentName = "AWS-RunPowerShellScript"));
        var tooMany = await Assert.ThrowsAnyAsync<AmazonSimpleSystemsManagementException>(() => Send(r => r.InstanceIds = Enumerable.Range(0, 51).Select(n => $"i-{n:x17}").ToList()));
        Assert.Equal("ValidationException", tooMany.ErrorCode);
        Assert.Contains("less than or equal to 50", tooMany.Message);
        Assert.Equal("ValidationException", (await Assert.ThrowsAnyAsync<AmazonSimpleSystemsManagementException>(() => Send(r => r.TimeoutSeconds = 10))).ErrorCode);
        Assert.Equal("ValidationException", (await Assert.ThrowsAnyAsync<AmazonSimpleSystemsManagementException>(() => Send(r => r.Comment = new string('c', 101)))).ErrorCode);
        await Assert.ThrowsAsync<InvalidParametersException>(() => Send(r => r.Parameters["executionTimeout"] = new() { "soon" }));
        await Assert.ThrowsAsync<InvalidParametersException>(() => Send(r => r.Parameters.Remove("commands")));
        await Assert.ThrowsAsync<InvalidParametersException>(() => Send(r => r.Parameters["sudo"] = new() { "yes" }));
        await Assert.ThrowsAsync<InvalidParametersException>(() => Send(r => r.Parameters["commands"] = new() { new string('x', world.Ec2.Ssm.MaxParametersSize) }));
        await Assert.ThrowsAsync<InvalidInstanceIdException>(() => Send(r => r.InstanceIds = new List<string> { "i-0123456789abcdef0" }));
        Assert.Empty(world.Ec2.Ssm.Invocations);

        var sent = await world.Ssm.SendCommandAsync(new SendCommandRequest
        {
            DocumentName = "AWS-RunShellScript", InstanceIds = new List<string> { world.InstanceId }, Comment = "Rebundle",
            Parameters = new Dictionary<string, List<string>> { ["commands"] = new() { "true" } },
        });
        Assert.Equal(("Pending", 36, "Rebundle", 3600), (sent.Command.Status.Value, sent.Command.CommandId.Length, sent.Command.Comment, sent.Command.TimeoutSeconds));
        Assert.Equal(new[] { world.InstanceId }, sent.Command.InstanceIds);
        Assert.Equal(new[] { "true" }, sent.Command.Parameters["commands"]);
    }

    [Fact]
    public async Task A_wrong_signature_an_unknown_key_throttling_and_a_denied_action_are_refused_as_SSM_refuses_them()
    {
        using var world = new World();

        var wrong = await Assert.ThrowsAnyAsync<AmazonSimpleSystemsManagementException>(() => world.Client(secret: "not-the-secret").DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest()));
        Assert.Equal(("InvalidSignatureException", HttpStatusCode.BadRequest), (wrong.ErrorCode, wrong.StatusCode));
        var stranger = await Assert.ThrowsAnyAsync<AmazonSimpleSystemsManagementException>(() => world.Client(accessKey: "AKIDSOMEONEELSE00001").DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest()));
        Assert.Equal("UnrecognizedClientException", stranger.ErrorCode);
        world.Ec2.Faults.ThrottleNext = 1;
        world.Ec2.Faults.ThrottleAction = "SendCommand";
        var throttled = await Assert.ThrowsAnyAsync<AmazonSimpleSystemsManagementException>(() => world.Send("true"));
        Assert.Equal(("ThrottlingException", "Rate exceeded"), (throttled.ErrorCode, throttled.Message));
        world.Ec2.Ssm.Faults.DeniedActions.Add("SendCommand");
        var denied = await Assert.ThrowsAnyAsync<AmazonSimpleSystemsManagementException>(() => world.Send("true"));
        Assert.Equal(("AccessDeniedException", HttpStatusCode.Forbidden), (denied.ErrorCode, denied.StatusCode));
        Assert.Contains("ssm:SendCommand", denied.Message);
        Assert.Empty(world.Ec2.Ssm.Invocations);
        Assert.Equal(4, world.Ec2.Requests.Count(r => r.Service == "ssm" && r.Status != 200));
    }

    [Fact]
    public async Task Disposing_the_endpoint_deletes_the_instances_folders_and_kills_what_still_runs()
    {
        var world = new World();
        await world.Send("sleep 30");
        world.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("InProgress", (await world.Get(world.Ec2.Ssm.Invocations.Single().CommandId)).Status.Value);
        var root = world.Managed.Root;

        world.Dispose();

        Assert.False(Directory.Exists(root));
    }

    /// <summary>One test's world: the runbook seed on a manual clock, its first running instance a managed one, real SDK clients that do not retry.</summary>
    private sealed class World : IDisposable
    {
        private readonly List<IDisposable> _clients = new();

        public World()
        {
            Clock = new ManualClock(new DateTimeOffset(DateTimeOffset.UtcNow.Year, 1, 1, 9, 0, 0, TimeSpan.Zero));
            var settings = new Ec2Settings { Now = () => Clock.UtcNow };
            settings.UseKey(TestAwsEnvironment.AccessKey, TestAwsEnvironment.SecretKey);
            Ec2 = new Ec2Fleet(settings);
            RunbookSeed.Apply(Ec2);
            Endpoint = Endpoint.Start(Ec2);
            InstanceId = Ec2.Instances.First(i => Ec2.StateOf(i) == "running").Id;
            Managed = Ec2.Ssm.RegisterManagedInstance(InstanceId);
            Ssm = Client();
        }

        public ManualClock Clock { get; }

        public Ec2Fleet Ec2 { get; }

        public Endpoint Endpoint { get; }

        public string InstanceId { get; }

        public SsmManagedInstance Managed { get; }

        public AmazonSimpleSystemsManagementClient Ssm { get; }

        public AmazonSimpleSystemsManagementClient Client(string accessKey = TestAwsEnvironment.AccessKey, string secret = TestAwsEnvironment.SecretKey)
        {
            var client = new AmazonSimpleSystemsManagementClient(new BasicAWSCredentials(accessKey, secret), new AmazonSimpleSystemsManagementConfig
            {
                ServiceURL = Endpoint.Url.ToString(), AuthenticationRegion = TestAwsEnvironment.Region, MaxErrorRetry = 0,
            });
            _clients.Add(client);
            return client;
        }

        public AmazonS3Client S3() => new(new BasicAWSCredentials(TestAwsEnvironment.AccessKey, TestAwsEnvironment.SecretKey), new AmazonS3Config
        {
            ServiceURL = Endpoint.Url.ToString(), ForcePathStyle = true, AuthenticationRegion = TestAwsEnvironment.Region, MaxErrorRetry = 0,
        });

        public Task<string> Send(params string[] commands) => Send(new SendCommandRequest
        {
            DocumentName = "AWS-RunShellScript", InstanceIds = new List<string> { InstanceId },
            Parameters = new Dictionary<string, List<string>> { ["commands"] = commands.ToList() },
        });

        public async Task<string> Send(SendCommandRequest request) => (await Ssm.SendCommandAsync(request)).Command.CommandId;

        public Task<GetCommandInvocationResponse> Get(string commandId, string? instanceId = null) =>
            Ssm.GetCommandInvocationAsync(new GetCommandInvocationRequest { CommandId = commandId, InstanceId = instanceId ?? InstanceId });

        /// <summary>Polls as a client would: a second of the test's clock between looks (and a moment of wall time for the processes), until the invocation ends.</summary>
        public async Task<GetCommandInvocationResponse> WaitUntilDone(string commandId)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                Clock.Advance(TimeSpan.FromSeconds(1));
                try
                {
                    var invocation = await Get(commandId);
                    if (invocation.Status.Value is "Success" or "Failed" or "TimedOut" or "Cancelled") return invocation;
                }
                catch (InvocationDoesNotExistException)
                {
                }
                Assert.True(DateTime.UtcNow < deadline, $"{commandId} did not end within 30 s: {Ec2.Ssm.Invocations.Last().Status}");
                Thread.Sleep(50);
            }
        }

        public async Task WaitUntil(Func<bool> condition)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (!condition())
            {
                Assert.True(DateTime.UtcNow < deadline, "the condition did not come true within 10 s");
                await Task.Delay(50);
            }
        }

        public async Task<string> PingStatus(string? instanceId = null) =>
            (await Ssm.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest
            {
                Filters = new List<InstanceInformationStringFilter> { new() { Key = "InstanceIds", Values = new List<string> { instanceId ?? InstanceId } } },
            })).InstanceInformationList.Single().PingStatus.Value;

        public void Dispose()
        {
            _clients.ForEach(c => c.Dispose());
            Endpoint.Dispose();
        }
    }
}

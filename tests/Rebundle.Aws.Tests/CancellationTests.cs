using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Rebundle.Audit;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>
/// Ctrl+C while EC2 holds its answer (the endpoint's AnswerStalls): the call returns within
/// 2 seconds as a cancellation, the endpoint sees the SDK drop the request, and nothing is left
/// half-made. Without the token reaching the SDK these calls would wait for the release.
/// </summary>
public class CancellationTests
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(2);

    [Fact]
    public void A_launch_stopped_while_RunInstances_stalls_returns_within_2s_launches_nothing_and_is_audited_as_stopped()
    {
        using var fleet = new AwsFleet();
        var entries = new List<AuditEntry>();
        var audited = new AuditingBackend(fleet.Backend, new ListSink(entries), "ops@host");
        var farmRole = fleet.Fleet.RequireFarmRole("Dev", "Reports");
        var before = fleet.Ec2.Instances.Count;
        fleet.Endpoint.Stalls.Stall("RunInstances");

        var (error, took, abandoned) = CtrlC.StopWhenHeld(fleet.Endpoint.Stalls, cancel => audited.LaunchServer(farmRole, cancel));

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.True(took < Prompt, $"took {took}");
        Assert.True(abandoned, "the SDK kept the RunInstances request open");
        Assert.Equal(before, fleet.Ec2.Instances.Count);
        Assert.Equal(new[] { true, false }, entries.Select(e => e.IsIntent));
        Assert.Equal((AuditOutcome.Failed, AuditingBackend.StoppedMidChange), (entries[1].Outcome, entries[1].Error));
    }

    [Fact]
    public void A_recycle_stopped_while_its_launch_stalls_keeps_the_old_server_and_leaves_no_replacement()
    {
        using var fleet = new AwsFleet();
        var recycle = new RecycleService(fleet.Fleet, new RecordingReporter());
        var plan = recycle.Plan(new[] { "Dev" }, new[] { "Reports" }, batchSize: 1).Items.Single();
        var liveBefore = Live(fleet);
        fleet.Endpoint.Stalls.Stall("RunInstances");

        var (error, took, abandoned) = CtrlC.StopWhenHeld(fleet.Endpoint.Stalls, cancel => recycle.Execute(plan, TimeSpan.FromMinutes(15), cancel));

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.True(took < Prompt, $"took {took}");
        Assert.True(abandoned, "the SDK kept the RunInstances request open");
        Assert.Equal(liveBefore, Live(fleet));
        Assert.Equal(0, fleet.Calls("RunInstances") + fleet.Calls("TerminateInstances"));
    }

    [Fact]
    public void A_snapshot_stopped_while_CreateImage_stalls_makes_no_image_and_no_role()
    {
        using var fleet = new AwsFleet();
        var snapshots = new SnapshotService(fleet.Fleet, new RecordingReporter());
        var server = fleet.Fleet.GetServers(new[] { "Rebundle-Staging" }, new[] { "Sidekiq" }, null).Items.Single();
        var plan = snapshots.Plan(new[] { new SnapshotRequest { Server = server } }).Single().Plan!;
        var images = fleet.Ec2.Images.Count;
        fleet.Endpoint.Stalls.Stall("CreateImage");

        var (error, took, abandoned) = CtrlC.StopWhenHeld(fleet.Endpoint.Stalls, cancel => snapshots.Execute(new[] { plan }, wait: true, TimeSpan.FromMinutes(15), cancel));

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.True(took < Prompt, $"took {took}");
        Assert.True(abandoned, "the SDK kept the CreateImage request open");
        Assert.Equal(images, fleet.Ec2.Images.Count);
        Assert.DoesNotContain(fleet.Fleet.Roles().All, r => r.Name == plan.TargetRole);
    }

    [Fact]
    public void A_read_stopped_while_DescribeInstances_stalls_returns_within_2s()
    {
        using var fleet = new AwsFleet();
        fleet.Endpoint.Stalls.Stall("DescribeInstances");

        var (error, took, abandoned) = CtrlC.StopWhenHeld(fleet.Endpoint.Stalls, cancel => fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Dev" } }, cancel));

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.True(took < Prompt, $"took {took}");
        Assert.True(abandoned, "the SDK kept the DescribeInstances request open");
    }

    [Fact]
    public void A_read_stopped_while_the_SDK_backs_off_from_throttling_returns_within_2s()
    {
        // Throttled without end: the SDK retries nine times, backing off up to 20 s between tries.
        using var fleet = new AwsFleet(options: new AwsConnectionOptions { MaxRetries = 9 });
        fleet.Ec2.Faults.ThrottleNext = 1000;
        using var cancel = new CancellationTokenSource();
        var stopwatch = new Stopwatch();
        var presser = Task.Run(() =>
        {
            // The third try has failed: the SDK is backing off before the fourth.
            SpinWait.SpinUntil(() => fleet.Calls("DescribeLaunchTemplates") >= 3, TimeSpan.FromSeconds(60));
            stopwatch.Start();
            cancel.Cancel();
        });

        var error = Record.Exception(() => fleet.Backend.GetRoles(cancel.Token));
        stopwatch.Stop();
        presser.GetAwaiter().GetResult();

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.True(stopwatch.Elapsed < Prompt, $"took {stopwatch.Elapsed}");
        Assert.InRange(fleet.Calls("DescribeLaunchTemplates"), 3, 4);
    }

    private static int Live(AwsFleet fleet) =>
        fleet.Ec2.Instances.Count(i => fleet.Ec2.StateOf(i) is "pending" or "running");
}

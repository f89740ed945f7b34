using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Scalr.Tests;

/// <summary>
/// Ctrl+C while the loopback Scalr holds its answer (AnswerStalls): the call returns within
/// 2 seconds as a cancellation, the server sees the client drop the request, and nothing is
/// left half-made.
/// </summary>
public class CancellationTests
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(2);
    private const string Env = "^/api/v1beta0/user/5/";

    [Fact]
    public void A_recycle_stopped_while_Scalr_holds_the_launch_keeps_the_farm_as_it_was()
    {
        using var scalr = new LoopbackScalr();
        using var fleet = new Fleet(scalr.Connect());
        var recycle = new RecycleService(fleet, NullReporter.Instance);
        var plan = recycle.Plan(new[] { "Dev" }, new[] { "Reports" }, batchSize: 1).Items.Single();
        var before = LiveIds(fleet);
        scalr.Server.Stalls.Stall("POST", Env + @"farm-roles/\d+/servers/$");

        var (error, took, abandoned) = CtrlC.StopWhenHeld(scalr.Server.Stalls, cancel => recycle.Execute(plan, TimeSpan.FromMinutes(15), cancel));

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.True(took < Prompt, $"took {took}");
        Assert.True(abandoned, "the client kept the launch request open");
        Assert.Equal(before, LiveIds(fleet));
        Assert.Equal(0, scalr.Server.RequestLog.Count(r => r.Method == "POST" && r.Path.EndsWith("/actions/terminate/", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_snapshot_stopped_while_Scalr_holds_the_new_roles_image_takes_the_half_made_role_away()
    {
        using var scalr = new LoopbackScalr(withEc2: true);
        using var fleet = new Fleet(scalr.Connect());
        var snapshots = new SnapshotService(fleet, NullReporter.Instance);
        var server = fleet.GetServers(new[] { "Rebundle-Staging" }, new[] { "Sidekiq" }, null).Items.Single();
        var plan = snapshots.Plan(new[] { new SnapshotRequest { Server = server } }).Single().Plan!;
        // The role exists by now; its image is being added when Ctrl+C comes.
        scalr.Server.Stalls.Stall("POST", Env + @"roles/\d+/images/$");

        var (error, took, abandoned) = CtrlC.StopWhenHeld(scalr.Server.Stalls, cancel => snapshots.Execute(new[] { plan }, wait: true, TimeSpan.FromMinutes(15), cancel));

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.True(took < Prompt, $"took {took}");
        Assert.True(abandoned, "the client kept the role-image request open");
        Assert.Equal(1, scalr.Count("POST", "roles/"));
        Assert.DoesNotContain(scalr.Server.World.Roles, r => r.Name == plan.TargetRole);
        Assert.DoesNotContain(fleet.Roles().All, r => r.Name == plan.TargetRole);
    }

    [Fact]
    public void A_read_stopped_while_Scalr_holds_the_farm_list_returns_within_2s()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        scalr.Server.Stalls.Stall("GET", Env + "farms/$");

        var (error, took, abandoned) = CtrlC.StopWhenHeld(scalr.Server.Stalls, cancel => backend.GetFarms(cancel));

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.True(took < Prompt, $"took {took}");
        Assert.True(abandoned, "the client kept the farms request open");
    }

    [Fact]
    public void A_read_stopped_while_the_client_backs_off_from_503s_returns_within_2s()
    {
        using var scalr = new LoopbackScalr();
        var options = scalr.Options();
        options.MaxRetries = 6; // backing off 0.5, 1, 2, 4, 8, 16 s on the real clock
        using var backend = ScalrBackend.Connect(options, SystemClock.Instance);
        scalr.Server.ClearLog();
        scalr.Server.FailNext(100);
        using var cancel = new CancellationTokenSource();
        var stopwatch = new Stopwatch();
        var presser = Task.Run(() =>
        {
            // The fourth try has failed: the client sleeps 4 s before the fifth.
            SpinWait.SpinUntil(() => scalr.Server.RequestLog.Count >= 4, TimeSpan.FromSeconds(60));
            stopwatch.Start();
            cancel.Cancel();
        });

        var error = Record.Exception(() => backend.GetFarms(cancel.Token));
        stopwatch.Stop();
        presser.GetAwaiter().GetResult();

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.True(stopwatch.Elapsed < Prompt, $"took {stopwatch.Elapsed}");
        Assert.Equal(4, scalr.Server.RequestLog.Count);
    }

    private static string LiveIds(Fleet fleet) => string.Join(",", fleet.Backend
        .GetServers(new ServerQuery { Farms = new[] { "Dev" } })
        .Where(s => s.Status is ServerStatus.Pending or ServerStatus.Running)
        .Select(s => s.Id).OrderBy(id => id, StringComparer.Ordinal));
}

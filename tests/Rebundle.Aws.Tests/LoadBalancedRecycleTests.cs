using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Ec2Endpoint;
using Rebundle.Errors;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>
/// Recycles of the web roles behind ELBv2 target groups on the loopback endpoint, through the
/// real SDK and the Query client. At every poll (each sleep of the backend's clock) the endpoint's
/// own view is checked: each web farm role has its count of healthy targets, and no instance is
/// terminated while still registered or draining.
/// </summary>
public class LoadBalancedRecycleTests : IDisposable
{
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(30);
    private readonly AwsFleet _fleet;
    private readonly List<string> _violations = new();

    public LoadBalancedRecycleTests()
    {
        _fleet = new AwsFleet(seed: false);
        // initial for 2 × 5 s after registration, as a fast real health check would be.
        RunbookSeed.Apply(_fleet.Ec2, new TargetGroupSeed(Drain, TimeSpan.FromSeconds(5), 2));
        _fleet.Slept = () => CheckServing("production-railsappserver", "Production", "RailsAppServer", 2);
        var web = _fleet.Backend.GetFarmRoles(new[] { "Production" }).Single(r => r.Alias == "RailsAppServer");
        _fleet.Backend.SetFarmRoleRole(web, "RailsAppServer-1-6");
    }

    public void Dispose() => _fleet.Dispose();

    private void CheckServing(string group, string farm, string alias, int count)
    {
        var states = _fleet.Ec2.Elbv2.StatesOf(group);
        var instances = _fleet.Ec2.Instances.Where(i => i.Tags.All.Any(t => t.Key == "ttm:farm" && t.Value == farm) && i.Tags.All.Any(t => t.Key == "ttm:alias" && t.Value == alias)).ToList();
        var healthy = states.Count(s => s.Value == "healthy");
        if (healthy < count) _violations.Add($"{_fleet.Clock.UtcNow:T}: {group} had {healthy} healthy of {count}");
        foreach (var gone in instances.Where(i => i.StateAt(_fleet.Clock.UtcNow, TimeSpan.Zero).Name is "shutting-down" or "terminated" && states.ContainsKey(i.Id)))
            _violations.Add($"{_fleet.Clock.UtcNow:T}: {gone.Id} was terminated while {states[gone.Id]} in {group}");
    }

    private IReadOnlyList<RecycledServer> Recycle(int batchSize = 2, CancellationToken cancellation = default)
    {
        var service = new RecycleService(_fleet.Fleet, new RecordingReporter());
        var plan = service.Plan(new[] { "Production" }, new[] { "RailsAppServer" }, batchSize).Items.Single();
        return service.Execute(new[] { plan }, new RecycleOptions { Timeout = TimeSpan.FromMinutes(10), HealthGrace = TimeSpan.FromSeconds(20) }, cancellation);
    }

    private void AssertTargetGroupHoldsTheLiveServers()
    {
        _fleet.Slept?.Invoke(); // the last look, right as the recycle returns: after its last poll it may still have terminated
        Assert.Empty(_violations);
        _fleet.Clock.Advance(TimeSpan.FromMinutes(5)); // every drain over, every check passed
        var live = _fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, Aliases = new[] { "RailsAppServer" } })
            .Where(s => s.Status == ServerStatus.Running).Select(s => s.Id).OrderBy(i => i).ToList();
        Assert.Equal(2, live.Count);
        var states = _fleet.Ec2.Elbv2.StatesOf("production-railsappserver");
        Assert.Equal(live, states.Keys.OrderBy(i => i).ToList());
        Assert.All(states.Values, s => Assert.Equal("healthy", s));
    }

    /// <summary>The rerun after an interruption: it ends with the farm role whole, on the new role, and its target group holding exactly its live servers.</summary>
    private void RerunAndAssertWhole()
    {
        Recycle();

        Assert.Empty(_violations);
        AssertTargetGroupHoldsTheLiveServers();
        Assert.All(_fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, Aliases = new[] { "RailsAppServer" } }),
            s => Assert.Equal("RailsAppServer-1-6", s.Role));
    }

    [Fact]
    public void A_recycle_keeps_two_healthy_targets_at_every_poll_and_terminates_an_old_server_only_after_it_drained()
    {
        var old = _fleet.Ec2.Elbv2.StatesOf("production-railsappserver").Keys.ToList();

        var recycled = Recycle();

        Assert.Equal(2, recycled.Count);
        Assert.Empty(_violations);
        AssertTargetGroupHoldsTheLiveServers();
        Assert.Empty(old.Intersect(_fleet.Ec2.Elbv2.StatesOf("production-railsappserver").Keys));
        Assert.True(recycled.All(r => r.Duration >= Drain), "each old server waited out the deregistration delay");
    }

    [Fact]
    public void An_unhealthy_replacement_stops_the_recycle_and_both_old_servers_keep_serving()
    {
        _fleet.Ec2.Elbv2.Faults.UnhealthyRegistrations = 1;
        var old = _fleet.Ec2.Elbv2.StatesOf("production-railsappserver").Keys.OrderBy(i => i).ToList();

        var stopped = Assert.Throws<RecycleStoppedException>(() => Recycle(batchSize: 1));

        Assert.Equal(TtmErrorCode.ReplacementUnhealthy, stopped.Code);
        Assert.Empty(_violations);
        AssertTargetGroupHoldsTheLiveServers();
        Assert.Equal(old, _fleet.Ec2.Elbv2.StatesOf("production-railsappserver").Keys.OrderBy(i => i).ToList());
    }

    [Theory]
    [InlineData("RegisterTargets")]
    [InlineData("DeregisterTargets")]
    public void Killed_mid_recycle_then_a_rerun_leaves_the_target_group_holding_exactly_the_live_servers(string killedAfter)
    {
        using var stop = new CancellationTokenSource();
        var watch = _fleet.Slept;
        _fleet.Slept = () =>
        {
            watch!();
            if (stop.IsCancellationRequested || _fleet.Calls(killedAfter) == 0) return;
            // kill -9: from here on the process changes nothing; its cleanup is refused, as if it never ran.
            foreach (var action in new[] { "RunInstances", "TerminateInstances", "CreateTags", "DeleteTags" }) _fleet.Ec2.Faults.DeniedActions.Add(action);
            foreach (var action in new[] { "RegisterTargets", "DeregisterTargets" }) _fleet.Ec2.Elbv2.Faults.DeniedActions.Add(action);
            stop.Cancel();
        };
        Assert.ThrowsAny<Exception>(() => Recycle(cancellation: stop.Token));
        _fleet.Ec2.Faults.DeniedActions.Clear();
        _fleet.Ec2.Elbv2.Faults.DeniedActions.Clear();
        _fleet.Slept = watch;

        RerunAndAssertWhole();
    }

    [Fact]
    public void Ctrl_C_while_replacements_are_registered_then_a_rerun_leaves_the_target_group_holding_exactly_the_live_servers()
    {
        using var ctrlC = new CancellationTokenSource();
        var watch = _fleet.Slept;
        _fleet.Slept = () =>
        {
            watch!();
            if (_fleet.Calls("RegisterTargets") > 0) ctrlC.Cancel();
        };
        Assert.ThrowsAny<OperationCanceledException>(() => Recycle(cancellation: ctrlC.Token));
        _fleet.Slept = watch;
        // The stop deregistered the replacements it had registered instead of terminating them.
        Assert.True(_fleet.Calls("DeregisterTargets") > 0);

        RerunAndAssertWhole();
    }

    [Fact]
    public void Each_poll_reads_the_target_group_with_one_DescribeTargetHealth()
    {
        var rounds = 0;
        var watch = _fleet.Slept;
        _fleet.Slept = () =>
        {
            rounds++;
            watch!();
        };

        Recycle();

        Assert.True(_fleet.Calls("DescribeTargetHealth") <= rounds + 3, $"{_fleet.Calls("DescribeTargetHealth")} DescribeTargetHealth in {rounds} rounds");
        // Names resolve to ARNs once each: Rails for the recycle, Node too for the closing check of the farm.
        Assert.True(_fleet.Calls("DescribeTargetGroups") <= 2, $"{_fleet.Calls("DescribeTargetGroups")} DescribeTargetGroups");
    }
}

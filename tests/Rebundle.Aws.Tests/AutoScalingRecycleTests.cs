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
/// Recycles of farm roles that are Auto Scaling groups (the web roles of Dev and Production,
/// behind target groups, beside plain farm roles) on the loopback endpoint, through the real
/// SDK and the Query client. At every poll (each sleep of the backend's clock) the endpoint's own
/// view is checked: the group's target group has its count of healthy targets, no instance is
/// terminated while registered or draining, and every running instance is a group's or a farm
/// role's. Each recycle must end with the group at its desired capacity and max, no process
/// suspended and no server protected, as before it.
/// </summary>
public class AutoScalingRecycleTests : IDisposable
{
    private const string Group = "Production-RailsAppServer";
    private const string TargetGroup = "production-railsappserver";
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(30);
    private readonly AwsFleet _fleet;
    private readonly List<string> _violations = new();

    public AutoScalingRecycleTests()
    {
        _fleet = new AwsFleet(seed: false);
        RunbookSeed.Apply(_fleet.Ec2, new TargetGroupSeed(Drain, TimeSpan.FromSeconds(5), 2), new AutoScalingSeed());
        _fleet.Slept = CheckAtPoll;
        var web = _fleet.Backend.GetFarmRoles(new[] { "Production" }).Single(r => r.Alias == "RailsAppServer");
        _fleet.Backend.SetFarmRoleRole(web, "RailsAppServer-1-6");
    }

    public void Dispose() => _fleet.Dispose();

    private void CheckAtPoll()
    {
        var now = _fleet.Clock.UtcNow;
        var states = _fleet.Ec2.Elbv2.StatesOf(TargetGroup);
        var healthy = states.Count(s => s.Value == "healthy");
        if (healthy < 2) _violations.Add($"{now:T}: {TargetGroup} had {healthy} healthy of 2");
        foreach (var instance in _fleet.Ec2.Instances)
        {
            var state = instance.StateAt(now, TimeSpan.Zero).Name;
            if (state is "shutting-down" or "terminated" && states.ContainsKey(instance.Id))
                _violations.Add($"{now:T}: {instance.Id} was terminated while {states[instance.Id]} in {TargetGroup}");
            if (state is "pending" or "running" && !instance.Tags.Has("ttm:farm") && !instance.Tags.Has("aws:autoscaling:groupName"))
                _violations.Add($"{now:T}: {instance.Id} runs outside any group or farm role");
        }
    }

    private RecycleService Service(RecordingReporter? reporter = null) => new(_fleet.Fleet, reporter ?? new RecordingReporter());

    private IReadOnlyList<RecycledServer> Recycle(int batchSize = 2, CancellationToken cancellation = default, RecordingReporter? reporter = null)
    {
        var service = Service(reporter);
        var plan = service.Plan(new[] { "Production" }, new[] { "RailsAppServer" }, batchSize).Items.Single();
        return service.Execute(new[] { plan }, new RecycleOptions { Timeout = TimeSpan.FromMinutes(10), HealthGrace = TimeSpan.FromSeconds(20) }, cancellation);
    }

    /// <summary>The group as it was before the recycle: desired 2, max 2, nothing suspended, nobody protected, no record; its servers the target group's, healthy, on the new role.</summary>
    private void AssertGroupAsBefore()
    {
        CheckAtPoll(); // the last look, right as the recycle returns
        Assert.Empty(_violations);
        _fleet.Clock.Advance(TimeSpan.FromMinutes(5)); // every drain over, every check passed
        var group = _fleet.Ec2.AutoScaling.Group(Group);
        Assert.Equal((2, 2, 1), (group.Desired, group.Max, group.Min));
        Assert.Empty(group.SuspendedProcesses);
        Assert.DoesNotContain(group.Tags, t => t.Key == "ttm:recycle");
        Assert.All(group.Instances, i => Assert.False(i.ProtectedFromScaleIn, $"{i.Id} is still protected from scale-in"));
        Assert.All(group.Instances, i => Assert.Equal("InService", i.LifecycleState));
        var inService = group.Instances.Select(i => i.Id).OrderBy(i => i).ToList();
        Assert.Equal(2, inService.Count);
        var live = _fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, Aliases = new[] { "RailsAppServer" } })
            .Where(s => s.Status is ServerStatus.Running or ServerStatus.Pending).ToList();
        Assert.Equal(inService, live.Select(s => s.Id).OrderBy(i => i).ToList());
        Assert.All(live, s => Assert.Equal("RailsAppServer-1-6", s.Role));
        // Each has its own index (a server whose tagging a stopped run cut short is no RailsAppServer.0).
        Assert.All(live, s => Assert.True(s.Index >= 1, $"{s.Name} ({s.Id}) has no index"));
        Assert.Equal(live.Count, live.Select(s => s.Index).Distinct().Count());
        var image = _fleet.Fleet.Roles().Require("RailsAppServer-1-6").ImageId;
        Assert.All(live, s => Assert.Equal(image, s.ImageId));
        var states = _fleet.Ec2.Elbv2.StatesOf(TargetGroup);
        Assert.Equal(inService, states.Keys.OrderBy(i => i).ToList());
        Assert.All(states.Values, s => Assert.Equal("healthy", s));
        Assert.Equal(2, _fleet.Backend.GetFarmRoles(new[] { "Production" }).Single(r => r.Alias == "RailsAppServer").DesiredCount);
    }

    [Fact]
    public void The_group_is_its_farm_role_counted_by_desired_capacity_and_running_the_role_it_launches_from()
    {
        var web = _fleet.Backend.GetFarmRoles(new[] { "Production" }).Single(r => r.Alias == "RailsAppServer");

        Assert.Equal(Group, web.ScalingGroup);
        Assert.Equal(2, web.DesiredCount);
        Assert.Equal("RailsAppServer-1-6", web.Role);
        var group = _fleet.Ec2.AutoScaling.Group(Group);
        Assert.Equal(("role/RailsAppServer-1-6", "$Default"), (group.LaunchTemplateName, group.Version)); // Set-TtmFarmRole pointed the group
        Assert.Contains(group.Tags, t => t is { Key: "ttm:role", Value: "RailsAppServer-1-6", PropagateAtLaunch: true });
        var plain = _fleet.Backend.GetFarmRoles(new[] { "Production" }).Single(r => r.Alias == "Sidekiq");
        Assert.Null(plain.ScalingGroup);
    }

    [Fact]
    public void A_recycle_launches_through_the_group_first_never_below_two_healthy_and_ends_with_the_group_as_before()
    {
        var old = _fleet.Ec2.AutoScaling.Group(Group).Instances.Select(i => i.Id).ToList();
        var reporter = new RecordingReporter();

        var recycled = Recycle(reporter: reporter);

        Assert.Equal(2, recycled.Count);
        Assert.Equal(old.OrderBy(i => i), recycled.Select(r => r.OldId).OrderBy(i => i));
        AssertGroupAsBefore();
        Assert.Empty(old.Intersect(_fleet.Ec2.AutoScaling.Group(Group).Instances.Select(i => i.Id)));
        // Launch-first through the group: desired raised (max with it), never EC2's own RunInstances or TerminateInstances.
        var mutations = _fleet.Mutations.Select(m => m.Action).ToList();
        Assert.DoesNotContain("RunInstances", mutations);
        Assert.DoesNotContain("TerminateInstances", mutations);
        var desired = _fleet.Ec2.Requests.Where(r => r.Action == "SetDesiredCapacity" && r.Status == 200).Select(r => r.Parameters["DesiredCapacity"]).ToList();
        Assert.Equal(new[] { "4" }, desired);
        var terminations = _fleet.Ec2.Requests.Where(r => r.Action == "TerminateInstanceInAutoScalingGroup" && r.Status == 200).ToList();
        Assert.Equal(2, terminations.Count);
        Assert.All(terminations, t => Assert.Equal("true", t.Parameters["ShouldDecrementDesiredCapacity"]));
        var suspended = _fleet.Ec2.Requests.Single(r => r.Action == "SuspendProcesses").Parameters.Where(p => p.Key.StartsWith("ScalingProcesses.member.")).Select(p => p.Value);
        Assert.Contains("AZRebalance", suspended);
        Assert.Contains("ReplaceUnhealthy", suspended);
        Assert.Contains(reporter.Verbose, v => v.Contains(Group) && v.Contains("put back"));
    }

    [Fact]
    public void An_unhealthy_replacement_stops_the_recycle_with_both_old_servers_serving_and_the_group_put_back()
    {
        _fleet.Ec2.Elbv2.Faults.UnhealthyRegistrations = 1;
        var old = _fleet.Ec2.AutoScaling.Group(Group).Instances.Select(i => i.Id).OrderBy(i => i).ToList();

        var stopped = Assert.Throws<RecycleStoppedException>(() => Recycle(batchSize: 1));

        Assert.Equal(TtmErrorCode.ReplacementUnhealthy, stopped.Code);
        CheckAtPoll();
        Assert.Empty(_violations);
        _fleet.Clock.Advance(TimeSpan.FromMinutes(5));
        // The unhealthy replacement drained and left through the group; the group let nothing replace it.
        var group = _fleet.Ec2.AutoScaling.Group(Group);
        Assert.Equal(old, group.Instances.Where(i => i.LifecycleState == "InService").Select(i => i.Id).OrderBy(i => i).ToList());
        Assert.Equal(old, _fleet.Ec2.Elbv2.StatesOf(TargetGroup).Keys.OrderBy(i => i).ToList());
    }

    [Theory]
    [InlineData("SetDesiredCapacity")]
    [InlineData("RegisterTargets")]
    [InlineData("TerminateInstanceInAutoScalingGroup")]
    public void Killed_mid_recycle_the_group_keeps_its_record_and_a_rerun_ends_with_the_group_as_before(string killedAfter)
    {
        using var stop = new CancellationTokenSource();
        _fleet.Slept = () =>
        {
            CheckAtPoll();
            if (stop.IsCancellationRequested || _fleet.Calls(killedAfter) == 0) return;
            // kill -9: from here on the process changes nothing; its cleanup is refused, as if it never ran.
            foreach (var action in new[] { "RunInstances", "TerminateInstances", "CreateTags", "DeleteTags" }) _fleet.Ec2.Faults.DeniedActions.Add(action);
            foreach (var action in new[] { "RegisterTargets", "DeregisterTargets" }) _fleet.Ec2.Elbv2.Faults.DeniedActions.Add(action);
            foreach (var action in new[] { "SetDesiredCapacity", "UpdateAutoScalingGroup", "TerminateInstanceInAutoScalingGroup", "SetInstanceProtection", "ResumeProcesses", "SuspendProcesses", "CreateOrUpdateTags", "DeleteTags" })
                _fleet.Ec2.AutoScaling.Faults.DeniedActions.Add(action);
            stop.Cancel();
        };
        Assert.ThrowsAny<Exception>(() => Recycle(cancellation: stop.Token));
        // What the killed run leaves says what to restore: the record on the group, and the group's count is the recorded one.
        var held = _fleet.Ec2.AutoScaling.Group(Group);
        Assert.Contains(held.Tags, t => t.Key == "ttm:recycle" && t.Value.Contains("desired=2") && t.Value.Contains("max=2"));
        Assert.Contains("AZRebalance", held.SuspendedProcesses);
        var farmRole = _fleet.Backend.GetFarmRoles(new[] { "Production" }).Single(r => r.Alias == "RailsAppServer");
        Assert.True(farmRole.ScalingHeld);
        Assert.Equal(2, farmRole.DesiredCount);
        _fleet.Ec2.Faults.DeniedActions.Clear();
        _fleet.Ec2.Elbv2.Faults.DeniedActions.Clear();
        _fleet.Ec2.AutoScaling.Faults.DeniedActions.Clear();
        _fleet.Slept = CheckAtPoll;

        Recycle();

        AssertGroupAsBefore();
    }

    /// <summary>A recycle stopped by Ctrl+C at the first poll after a replacement was registered in a target group.</summary>
    private RecordingReporter CtrlCOnceRegistered()
    {
        using var ctrlC = new CancellationTokenSource();
        _fleet.Slept = () =>
        {
            CheckAtPoll();
            if (_fleet.Calls("RegisterTargets") > 0) ctrlC.Cancel();
        };
        var reporter = new RecordingReporter();
        Assert.ThrowsAny<OperationCanceledException>(() => Recycle(cancellation: ctrlC.Token, reporter: reporter));
        _fleet.Slept = CheckAtPoll;
        return reporter;
    }

    [Fact]
    public void Ctrl_C_while_replacements_are_registered_terminates_them_through_the_group_so_it_is_at_its_count_at_once()
    {
        var old = _fleet.Ec2.AutoScaling.Group(Group).Instances.Select(i => i.Id).ToList();
        var reporter = CtrlCOnceRegistered();

        // The group put the replacements in service; the stop hands them back to it, which drains
        // them from its target group on their way out: none is left running, deregistered, above the count.
        var group = _fleet.Ec2.AutoScaling.Group(Group);
        var replacements = group.Instances.Where(i => !old.Contains(i.Id)).ToList();
        Assert.NotEmpty(replacements);
        Assert.Equal(2, group.Desired);
        Assert.All(replacements, i => Assert.StartsWith("Terminating", i.LifecycleState));
        Assert.DoesNotContain(reporter.Warnings, w => w.Contains("left it running while it drains"));
        Assert.All(old, id => Assert.Equal("healthy", _fleet.Ec2.Elbv2.StatesOf(TargetGroup)[id]));

        Recycle();

        AssertGroupAsBefore();
    }

    [Fact]
    public void Ctrl_C_leaves_a_replacement_draining_from_a_target_group_the_group_does_not_drain_and_the_rerun_trims_it()
    {
        // The farm role also serves from a target group Rebundle registers in, not attached to the group:
        // the group would terminate the replacement mid-drain there, so the stop deregisters and leaves it.
        const string Extra = "production-railsappserver-extra";
        var old = _fleet.Ec2.AutoScaling.Group(Group).Instances.Select(i => i.Id).ToList();
        _fleet.Ec2.Elbv2.AddTargetGroup(Extra, Drain, TimeSpan.FromSeconds(5), 2);
        _fleet.Ec2.Elbv2.AddHealthyTargets(Extra, old);
        RunbookSeed.SetTargetGroups(_fleet.Ec2, _fleet.Ec2.LaunchTemplateNamed("farm/Production/RailsAppServer")!, TargetGroup, Extra);
        var reporter = CtrlCOnceRegistered();

        var replacements = _fleet.Ec2.Elbv2.StatesOf(Extra).Where(s => !old.Contains(s.Key)).ToList();
        Assert.NotEmpty(replacements);
        Assert.All(replacements, s => Assert.Equal("draining", s.Value));
        Assert.All(replacements, s => Assert.Contains(reporter.Warnings, w => w.Contains(s.Key) && w.Contains("left it running while it drains")));
        Assert.All(replacements, s => Assert.Equal("InService", _fleet.Ec2.AutoScaling.Group(Group).Instances.Single(i => i.Id == s.Key).LifecycleState));

        Recycle();

        AssertGroupAsBefore();
        Assert.Equal(2, _fleet.Ec2.Elbv2.StatesOf(Extra).Count(s => s.Value == "healthy"));
    }

    [Fact]
    public void Ctrl_C_while_the_group_launches_takes_its_new_servers_and_capacity_back_at_once()
    {
        var old = _fleet.Ec2.AutoScaling.Group(Group).Instances.Select(i => i.Id).OrderBy(i => i).ToList();
        // The group has named its new instances; EC2 holds the tagging of the first one, and Ctrl+C comes.
        _fleet.Endpoint.Stalls.Stall("CreateTags");

        var reporter = new RecordingReporter();
        var (error, _, _) = CtrlC.StopWhenHeld(_fleet.Endpoint.Stalls, cancel => Recycle(cancellation: cancel, reporter: reporter));
        _fleet.Endpoint.Stalls.Release();

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.True(_fleet.Calls("SetDesiredCapacity") > 0, "the group was asked for the replacements before the stop");
        // Without a rerun: the stop terminated the replacements through the group, so it asks for its count again.
        var group = _fleet.Ec2.AutoScaling.Group(Group);
        Assert.Equal(2, group.Desired);
        Assert.Equal(old, group.Instances.Where(i => !i.LifecycleState.StartsWith("Terminat")).Select(i => i.Id).OrderBy(i => i).ToList());
        Assert.All(group.Instances.Where(i => !old.Contains(i.Id)), i => Assert.False(i.ProtectedFromScaleIn, $"{i.Id} was left protected from scale-in"));
        // The old servers serve on; a replacement the group had put in service drains on its way out.
        var states = _fleet.Ec2.Elbv2.StatesOf(TargetGroup);
        Assert.All(old, id => Assert.Equal("healthy", states[id]));
        Assert.All(states.Where(s => !old.Contains(s.Key)), s => Assert.Equal("draining", s.Value));

        Recycle();

        AssertGroupAsBefore();
    }

    [Fact]
    public void A_rerun_with_nothing_left_to_replace_still_puts_a_held_group_back()
    {
        // As a run killed after its last termination leaves it: every server new, the record still on the group.
        Recycle();
        var group = _fleet.Ec2.AutoScaling.Group(Group);
        _fleet.Backend.ScalingGroups.Hold(_fleet.Backend.GetFarmRoles(new[] { "Production" }).Single(r => r.Alias == "RailsAppServer"));
        Assert.Contains(_fleet.Ec2.AutoScaling.Group(Group).Tags, t => t.Key == "ttm:recycle");

        // A resume whose journal says every server was replaced: nothing left but the group to put back.
        var plans = Service().Plan(new[] { "Production" }, new[] { "RailsAppServer" }, 2, onlyServerIds: Array.Empty<string>()).Items;
        var replaced = Service().Execute(plans, new RecycleOptions { Timeout = TimeSpan.FromMinutes(10) }, CancellationToken.None);

        Assert.Empty(replaced);
        Assert.Equal(group.Instances.Select(i => i.Id).OrderBy(i => i), _fleet.Ec2.AutoScaling.Group(Group).Instances.Select(i => i.Id).OrderBy(i => i));
        AssertGroupAsBefore();
    }

    [Fact]
    public void A_launch_hook_holds_a_replacement_in_Pending_Wait_and_it_counts_only_once_in_service()
    {
        _fleet.Ec2.AutoScaling.AddLifecycleHook(Group, "warm-up", "launching", TimeSpan.FromSeconds(60), "CONTINUE");
        var reporter = new RecordingReporter();

        var recycled = Recycle(batchSize: 1, reporter: reporter);

        Assert.Equal(2, recycled.Count);
        Assert.True(recycled.All(r => r.Duration >= TimeSpan.FromSeconds(60)), "each replacement waited out its launch hook");
        Assert.Contains(reporter.Verbose, v => v.Contains("warm-up") && v.Contains("Pending:Wait"));
        AssertGroupAsBefore();
    }

    [Fact]
    public void A_termination_hook_is_waited_for_before_the_group_is_put_back()
    {
        _fleet.Ec2.AutoScaling.AddLifecycleHook(Group, "drain-logs", "terminating", TimeSpan.FromSeconds(90), "CONTINUE");
        var started = _fleet.Clock.UtcNow;

        Recycle();

        Assert.True(_fleet.Clock.UtcNow - started >= TimeSpan.FromSeconds(90), "the release waited for Terminating:Wait");
        Assert.DoesNotContain(_fleet.Ec2.AutoScaling.Group(Group).Instances, i => i.LifecycleState.StartsWith("Terminating"));
        AssertGroupAsBefore();
    }

    [Fact]
    public void Changes_that_race_a_scaling_activity_are_tried_again()
    {
        _fleet.Ec2.AutoScaling.Faults.ScalingActivityInProgress = 3;
        _fleet.Ec2.AutoScaling.Faults.ResourceContention = 2;

        Recycle();

        Assert.True(_fleet.Ec2.Requests.Count(r => r.ErrorCode is "ScalingActivityInProgress" or "ResourceContention") >= 5);
        AssertGroupAsBefore();
    }

    [Fact]
    public void A_group_that_launches_from_another_template_is_refused_before_anything_is_launched()
    {
        _fleet.Ec2.AddLaunchTemplate("web-by-hand", RunbookSeed.RoleData(_fleet.Ec2.Images[0].Id), Array.Empty<KeyValuePair<string, string>>());
        _fleet.Backend.AutoScalingCalls.SetLaunchTemplate(Group, "web-by-hand", "$Latest", CancellationToken.None); // someone, by hand

        var stopped = Assert.Throws<RecycleStoppedException>(() => Recycle());

        Assert.Equal(TtmErrorCode.ScalingGroupNotFound, stopped.Code);
        Assert.Contains("Set-TtmFarmRole", stopped.InnerException!.Message);
        Assert.Equal(0, _fleet.Calls("SetDesiredCapacity"));
        var group = _fleet.Ec2.AutoScaling.Group(Group);
        Assert.Equal(2, group.Desired);
        Assert.Empty(group.SuspendedProcesses); // the stop put the hold back
    }

    [Fact]
    public void Every_poll_reads_the_group_with_one_DescribeAutoScalingGroups()
    {
        var rounds = 0;
        _fleet.Slept = () =>
        {
            rounds++;
            CheckAtPoll();
        };

        Recycle();

        // One per poll for the servers' lifecycle (one call for every group), plus the launch's and the hold's own.
        Assert.True(_fleet.Calls("DescribeAutoScalingGroups") <= 2 * rounds + 10, $"{_fleet.Calls("DescribeAutoScalingGroups")} DescribeAutoScalingGroups in {rounds} rounds");
    }

    [Fact]
    public void A_whole_farm_recycle_goes_through_both_groups_beside_the_plain_farm_roles_and_leaves_each_group_as_before()
    {
        var names = new[] { "Production-RailsAppServer", "Production-NodeAppServer" };
        var before = names.ToDictionary(n => n, n => _fleet.Ec2.AutoScaling.Group(n));
        var service = Service();
        var plan = service.Plan(new[] { "Production" }, null, 2).Items.Single();

        service.Execute(new[] { plan }, new RecycleOptions { Timeout = TimeSpan.FromMinutes(10) }, CancellationToken.None);

        _fleet.Clock.Advance(TimeSpan.FromMinutes(5));
        var desired = string.Join(" ", _fleet.Ec2.Requests.Where(r => r.Action is "SetDesiredCapacity" or "TerminateInstanceInAutoScalingGroup" && r.Status == 200)
            .Select(r => r.Action == "SetDesiredCapacity" ? r.Parameters["AutoScalingGroupName"] + "=" + r.Parameters["DesiredCapacity"] : "-" + r.Parameters["InstanceId"]));
        foreach (var name in names)
        {
            var group = _fleet.Ec2.AutoScaling.Group(name);
            Assert.True((before[name].Desired, before[name].Max) == (group.Desired, group.Max), $"{name}: desired {group.Desired}, max {group.Max}; calls: {desired}");
            Assert.Empty(group.SuspendedProcesses);
        }
    }

    /// <summary>docs/aws.md's Auto Scaling policies name exactly the actions the typed calls send.</summary>
    [Fact]
    public void The_documented_IAM_policy_names_every_Auto_Scaling_action_called()
    {
        var documented = DocumentedPolicy.Actions("autoscaling");
        var sent = DocumentedPolicy.RepoFile("src", "Rebundle.Aws", "AutoScaling", "AutoScalingCalls.cs");

        Assert.Equal(Rebundle.Aws.AutoScaling.AutoScalingCalls.Actions.OrderBy(a => a), documented.OrderBy(a => a));
        // Each action's constant is declared, listed in Actions, and sent at least once.
        Assert.All(Rebundle.Aws.AutoScaling.AutoScalingCalls.Actions, a =>
        {
            var constant = System.Text.RegularExpressions.Regex.Match(sent, "const string (\\w+) = \"" + a.Substring("autoscaling:".Length) + "\"").Groups[1].Value;
            Assert.True(System.Text.RegularExpressions.Regex.Matches(sent, "\\b" + constant + "\\b").Count >= 3, $"{a} ({constant}) is never sent");
        });
    }
}

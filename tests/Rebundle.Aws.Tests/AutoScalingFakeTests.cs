using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Xml.Linq;
using Amazon.Runtime;
using Rebundle.Aws.Query;
using Rebundle.Ec2Endpoint;
using Rebundle.Errors;
using Rebundle.Runbook;
using Xunit;
using Endpoint = Rebundle.Ec2Endpoint.Ec2Endpoint;

namespace Rebundle.Aws.Tests;

/// <summary>
/// The loopback endpoint's Auto Scaling part, as a user of the fake relies on it: driven through
/// the project's own signed Query client over HTTP, on a manual clock, against the runbook seed
/// whose Dev and Production web farm roles are Auto Scaling groups behind target groups.
/// </summary>
public class AutoScalingFakeTests
{
    private const string Rails = "Production-RailsAppServer";
    private const string RailsTargets = "production-railsappserver";

    // EC2's defaults: 20 s boot, 5 s shutdown. Target groups: healthy 10 s × 3 after registering, 60 s drain.
    private static readonly TimeSpan Boot = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Shutdown = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ToHealthy = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(60);

    [Fact]
    public void The_seed_makes_the_web_farm_roles_of_Dev_and_Production_groups_whose_servers_serve_already()
    {
        using var world = new World();

        var groups = Members(world.Call("DescribeAutoScalingGroups"), "AutoScalingGroups").ToList();

        Assert.Equal(new[] { "Dev-NodeAppServer", "Dev-RailsAppServer", "Production-NodeAppServer", "Production-RailsAppServer" }, groups.Select(g => Text(g, "AutoScalingGroupName")));
        var rails = groups.Single(g => Text(g, "AutoScalingGroupName") == Rails);
        Assert.Equal(("1", "2", "2", "ELB", "0"), (Text(rails, "MinSize"), Text(rails, "MaxSize"), Text(rails, "DesiredCapacity"), Text(rails, "HealthCheckType"), Text(rails, "HealthCheckGracePeriod")));
        Assert.Equal(("role/RailsAppServer", "$Default"), (Text(Child(rails, "LaunchTemplate"), "LaunchTemplateName"), Text(Child(rails, "LaunchTemplate"), "Version")));
        Assert.Equal(world.Ec2.Elbv2.TargetGroups.Single(t => t.Name == RailsTargets).Arn, Members(rails, "TargetGroupARNs").Single().Value);
        Assert.Null(Child(rails, "Status"));
        Assert.All(Members(rails, "Tags"), t => Assert.Equal((Rails, "auto-scaling-group", "true"), (Text(t, "ResourceId"), Text(t, "ResourceType"), Text(t, "PropagateAtLaunch"))));
        Assert.Equal(new[] { "ttm:farm=Production", "ttm:alias=RailsAppServer", "ttm:role=RailsAppServer" }, Members(rails, "Tags").Select(t => Text(t, "Key") + "=" + Text(t, "Value")));
        var instances = Members(rails, "Instances").ToList();
        Assert.All(instances, i => Assert.Equal(("InService", "Healthy", "false", "$Default"), (Text(i, "LifecycleState"), Text(i, "HealthStatus"), Text(i, "ProtectedFromScaleIn"), Text(Child(i, "LaunchTemplate"), "Version"))));
        var ids = instances.Select(i => Text(i, "InstanceId")!).ToList();
        Assert.Equal(ids.ToDictionary(id => id, _ => "healthy"), world.Ec2.Elbv2.StatesOf(RailsTargets));
        Assert.Equal(new Dictionary<string, string>
        {
            ["aws:autoscaling:groupName"] = Rails, ["ttm:farm"] = "Production", ["ttm:alias"] = "RailsAppServer", ["ttm:role"] = "RailsAppServer",
            ["Name"] = "Production/RailsAppServer.2", ["ttm:index"] = "2",
        }, TagsOf(world, ids[1]));
        Assert.Equal("running", world.Ec2.StateOf(world.Ec2.Instances.Single(i => i.Id == ids[0])));
        var farmRole = world.Ec2.LaunchTemplateNamed("farm/Production/RailsAppServer")!.Tags;
        Assert.Equal((Rails, RailsTargets), (farmRole["ttm:auto-scaling-group"], farmRole["ttm:target-groups"]));
        // The other farm roles stay plain servers; Dev's single server makes min = max = desired = 1.
        Assert.DoesNotContain(world.Ec2.Instances, i => i.Tags["ttm:alias"] == "Sidekiq" && i.Tags.Has("aws:autoscaling:groupName"));
        Assert.Contains(world.Ec2.Instances, i => i.Tags["ttm:alias"] == "Sidekiq" && i.Tags["ttm:farm"] == "Production");
        Assert.Equal((1, 1, 1), (world.Group("Dev-RailsAppServer").Min, world.Group("Dev-RailsAppServer").Max, world.Group("Dev-RailsAppServer").Desired));
    }

    [Fact]
    public void Raised_desired_capacity_launches_an_instance_pending_then_in_service_then_healthy_in_its_target_group()
    {
        using var world = new World();

        world.Call("UpdateAutoScalingGroup", ("AutoScalingGroupName", Rails), ("MaxSize", "3"), ("DesiredCapacity", "3"));

        var fresh = world.Group().Instances.Single(i => i.LifecycleState == "Pending");
        var launch = world.Group().Activities[0];
        Assert.Equal(($"Launching a new EC2 instance: {fresh.Id}", "InProgress"), (launch.Description, launch.StatusCode));
        Assert.Contains("a user request update of AutoScalingGroup constraints to min: 1, max: 3, desired: 3 changing the desired capacity from 2 to 3.", launch.Cause);
        Assert.Contains("an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 2 to 3.", launch.Cause);
        Assert.Equal(new Dictionary<string, string> { ["aws:autoscaling:groupName"] = Rails, ["ttm:farm"] = "Production", ["ttm:alias"] = "RailsAppServer", ["ttm:role"] = "RailsAppServer" },
            TagsOf(world, fresh.Id));
        Assert.Equal("pending", world.Ec2.StateOf(world.Ec2.Instances.Single(i => i.Id == fresh.Id)));
        Assert.DoesNotContain(fresh.Id, world.Ec2.Elbv2.StatesOf(RailsTargets).Keys);

        world.Clock.Advance(Boot);
        Assert.Equal("InService", world.Instance(fresh.Id).LifecycleState);
        Assert.Equal("Successful", world.Group().Activities[0].StatusCode);
        Assert.Equal("initial", world.Ec2.Elbv2.StatesOf(RailsTargets)[fresh.Id]);
        world.Clock.Advance(ToHealthy);
        Assert.Equal("healthy", world.Ec2.Elbv2.StatesOf(RailsTargets)[fresh.Id]);
        Assert.Equal(3, world.Group().Instances.Count);
    }

    [Fact]
    public void Terminating_with_decrement_drains_the_instance_while_it_runs_then_it_is_gone_and_desired_lowered()
    {
        using var world = new World();
        var old = world.Group().Instances[0].Id;

        var answer = world.Call("TerminateInstanceInAutoScalingGroup", ("InstanceId", old), ("ShouldDecrementDesiredCapacity", "true"));

        var activity = Child(answer, "Activity");
        Assert.Equal(($"Terminating EC2 instance: {old}", Rails, "WaitingForELBConnectionDraining"), (Text(activity, "Description"), Text(activity, "AutoScalingGroupName"), Text(activity, "StatusCode")));
        Assert.Contains($"instance {old} was taken out of service in response to a user request, shrinking the capacity from 2 to 1.", Text(activity, "Cause"));
        Assert.Equal(1, world.Group().Desired);
        Assert.Equal("draining", world.Ec2.Elbv2.StatesOf(RailsTargets)[old]);
        world.Clock.Advance(Drain - TimeSpan.FromSeconds(1));
        Assert.Equal(("Terminating", "running"), (world.Instance(old).LifecycleState, world.Ec2State(old)));

        world.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(("Terminating:Proceed", "shutting-down"), (world.Instance(old).LifecycleState, world.Ec2State(old)));
        world.Clock.Advance(Shutdown);
        Assert.Equal(("Terminated", "terminated"), (world.Instance(old).LifecycleState, world.Ec2State(old)));
        world.Clock.Advance(world.Ec2.AutoScaling.TerminatedListedFor);
        Assert.Equal(new[] { "InService" }, world.Group().Instances.Select(i => i.LifecycleState));
        Assert.Equal("Successful", world.Group().Activities.Single(a => a.Id == Text(activity, "ActivityId")).StatusCode);
        Assert.DoesNotContain(old, world.Ec2.Elbv2.StatesOf(RailsTargets).Keys);
    }

    [Fact]
    public void Terminating_without_decrement_launches_a_replacement_at_once()
    {
        using var world = new World();
        var old = world.Group().Instances[0].Id;

        world.Call("TerminateInstanceInAutoScalingGroup", ("InstanceId", old), ("ShouldDecrementDesiredCapacity", "false"));

        Assert.Equal(2, world.Group().Desired);
        Assert.Equal(new[] { "Terminating", "InService", "Pending" }, world.Group().Instances.Select(i => i.LifecycleState));
        Assert.Contains("increasing the capacity from 1 to 2.", world.Group().Activities[0].Cause);
        world.Clock.Advance(Drain + Shutdown + world.Ec2.AutoScaling.TerminatedListedFor);
        Assert.Equal(new[] { "InService", "InService" }, world.Group().Instances.Select(i => i.LifecycleState));
    }

    [Fact]
    public void Terminating_with_decrement_below_min_size_is_refused_as_AWS_words_it()
    {
        using var world = new World();
        var only = world.Group("Dev-RailsAppServer").Instances.Single().Id;

        var error = world.Refused("TerminateInstanceInAutoScalingGroup", ("InstanceId", only), ("ShouldDecrementDesiredCapacity", "true"));

        Assert.Equal("ValidationError", error.BackendCode);
        Assert.Contains("Currently, desiredSize equals minSize (1). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.", error.Message);
        Assert.Contains("Instance Id not found - No managed instance found for instance ID: i-0nothere",
            world.Refused("TerminateInstanceInAutoScalingGroup", ("InstanceId", "i-0nothere"), ("ShouldDecrementDesiredCapacity", "true")).Message);
        Assert.Equal("InService", world.Instance(only, "Dev-RailsAppServer").LifecycleState);
    }

    [Fact]
    public void An_instance_terminated_through_EC2_is_found_unhealthy_and_replaced()
    {
        using var world = new World();
        var old = world.Group().Instances[0].Id;
        using var ec2 = world.Client(service: new AwsQueryService("ec2", "2016-11-15", "EC2"));

        ec2.Call("TerminateInstances", new[] { AwsQueryClient.Pair("InstanceId.1", old) }, "terminating", CancellationToken.None);

        Assert.Equal(("Terminating", "Unhealthy"), (world.Instance(old).LifecycleState, world.Instance(old).HealthStatus));
        Assert.Contains("taken out of service in response to an EC2 health check indicating it has been terminated or stopped.", world.Group().Activities.Single(a => a.Description.Contains(old) && a.Description.StartsWith("Terminating")).Cause);
        Assert.Single(world.Group().Instances, i => i.LifecycleState == "Pending");
        Assert.Equal(2, world.Group().Desired);
    }

    [Fact]
    public void With_ReplaceUnhealthy_suspended_an_instance_terminated_through_EC2_stays_listed_unhealthy_until_resumed()
    {
        using var world = new World();
        var old = world.Group().Instances[0].Id;
        world.Call("SuspendProcesses", ("AutoScalingGroupName", Rails), ("ScalingProcesses.member.1", "ReplaceUnhealthy"));
        using var ec2 = world.Client(service: new AwsQueryService("ec2", "2016-11-15", "EC2"));

        ec2.Call("TerminateInstances", new[] { AwsQueryClient.Pair("InstanceId.1", old) }, "terminating", CancellationToken.None);
        world.Clock.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(("InService", "Unhealthy"), (world.Instance(old).LifecycleState, world.Instance(old).HealthStatus));
        Assert.Equal(2, world.Group().Instances.Count);
        var suspended = Members(Members(world.Call("DescribeAutoScalingGroups", ("AutoScalingGroupNames.member.1", Rails)), "AutoScalingGroups").Single(), "SuspendedProcesses").Single();
        Assert.Equal("ReplaceUnhealthy", Text(suspended, "ProcessName"));
        Assert.StartsWith("User suspended at ", Text(suspended, "SuspensionReason"));

        world.Call("ResumeProcesses", ("AutoScalingGroupName", Rails));
        Assert.Equal("Terminated", world.Instance(old).LifecycleState); // gone from EC2 and drained long ago: nothing left to wait for
        Assert.Single(world.Group().Instances, i => i.LifecycleState == "Pending");
    }

    [Fact]
    public void An_instance_unhealthy_in_its_target_group_is_replaced_once_the_grace_period_has_passed()
    {
        using var world = new World();
        world.Call("UpdateAutoScalingGroup", ("AutoScalingGroupName", Rails), ("HealthCheckGracePeriod", "300"), ("MaxSize", "3"), ("DesiredCapacity", "3"));
        var fresh = world.Group().Instances.Single(i => i.LifecycleState == "Pending").Id;
        world.Clock.Advance(Boot);
        world.Ec2.Elbv2.SetUnhealthy(RailsTargets, fresh);

        world.Clock.Advance(TimeSpan.FromSeconds(300) - Boot - TimeSpan.FromSeconds(1));
        Assert.Equal(("InService", "Healthy"), (world.Instance(fresh).LifecycleState, world.Instance(fresh).HealthStatus));
        world.Clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(("Terminating", "Unhealthy"), (world.Instance(fresh).LifecycleState, world.Instance(fresh).HealthStatus));
        Assert.Contains("in response to an ELB system health check failure.", world.Group().Activities.Single(a => a.Description == $"Terminating EC2 instance: {fresh}").Cause);
        Assert.Single(world.Group().Instances, i => i.LifecycleState == "Pending");
    }

    [Fact]
    public void A_launch_hook_holds_the_instance_in_Pending_Wait_until_its_heartbeat_timeout_then_the_default_result()
    {
        using var world = new World();
        world.Ec2.AutoScaling.AddLifecycleHook(Rails, "warm-up", "launching", TimeSpan.FromMinutes(2), "CONTINUE");

        world.Call("UpdateAutoScalingGroup", ("AutoScalingGroupName", Rails), ("MaxSize", "3"), ("DesiredCapacity", "3"));
        var fresh = world.Group().Instances.Single(i => i.LifecycleState == "Pending:Wait").Id;
        Assert.Equal("MidLifecycleAction", world.Group().Activities[0].StatusCode);
        world.Clock.Advance(Boot);
        Assert.Equal(("Pending:Wait", "running"), (world.Instance(fresh).LifecycleState, world.Ec2State(fresh)));
        Assert.DoesNotContain(fresh, world.Ec2.Elbv2.StatesOf(RailsTargets).Keys);
        var hook = Members(world.Call("DescribeLifecycleHooks", ("AutoScalingGroupName", Rails)), "LifecycleHooks").Single();
        Assert.Equal(("warm-up", "autoscaling:EC2_INSTANCE_LAUNCHING", "120", "12000", "CONTINUE"),
            (Text(hook, "LifecycleHookName"), Text(hook, "LifecycleTransition"), Text(hook, "HeartbeatTimeout"), Text(hook, "GlobalTimeout"), Text(hook, "DefaultResult")));

        world.Clock.Advance(TimeSpan.FromMinutes(2) - Boot);

        Assert.Equal("InService", world.Instance(fresh).LifecycleState);
        Assert.Equal("initial", world.Ec2.Elbv2.StatesOf(RailsTargets)[fresh]);
    }

    [Fact]
    public void CompleteLifecycleAction_ends_the_wait_early_and_a_second_completion_finds_no_active_action()
    {
        using var world = new World();
        world.Ec2.AutoScaling.AddLifecycleHook(Rails, "warm-up", "launching", TimeSpan.FromHours(1), "ABANDON");
        world.Call("UpdateAutoScalingGroup", ("AutoScalingGroupName", Rails), ("MaxSize", "3"), ("DesiredCapacity", "3"));
        var fresh = world.Group().Instances.Single(i => i.LifecycleState == "Pending:Wait").Id;
        world.Clock.Advance(Boot);

        world.Call("CompleteLifecycleAction", ("AutoScalingGroupName", Rails), ("LifecycleHookName", "warm-up"), ("InstanceId", fresh), ("LifecycleActionResult", "CONTINUE"));

        Assert.Equal("InService", world.Instance(fresh).LifecycleState);
        var again = world.Refused("CompleteLifecycleAction", ("AutoScalingGroupName", Rails), ("LifecycleHookName", "warm-up"), ("InstanceId", fresh), ("LifecycleActionResult", "CONTINUE"));
        Assert.Contains($"No active Lifecycle Action found with instance ID {fresh}", again.Message);
    }

    [Fact]
    public void A_launch_hook_timing_out_ABANDON_terminates_the_instance_and_the_group_launches_another()
    {
        using var world = new World();
        world.Ec2.AutoScaling.AddLifecycleHook(Rails, "warm-up", "launching", TimeSpan.FromMinutes(1));
        world.Call("UpdateAutoScalingGroup", ("AutoScalingGroupName", Rails), ("MaxSize", "3"), ("DesiredCapacity", "3"));
        var first = world.Group().Instances.Single(i => i.LifecycleState == "Pending:Wait").Id;

        world.Clock.Advance(TimeSpan.FromMinutes(1));

        var launch = world.Group().Activities.Single(a => a.Description == $"Launching a new EC2 instance: {first}");
        Assert.Equal("Cancelled", launch.StatusCode);
        Assert.Contains("Lifecycle Action Completed with ABANDON Result", launch.StatusMessage);
        Assert.Equal(("Terminating:Proceed", "shutting-down"), (world.Instance(first).LifecycleState, world.Ec2State(first)));
        Assert.Single(world.Group().Instances, i => i.LifecycleState == "Pending:Wait" && i.Id != first);
    }

    [Fact]
    public void A_terminate_hook_holds_the_drained_instance_running_in_Terminating_Wait_until_completed()
    {
        using var world = new World();
        world.Ec2.AutoScaling.AddLifecycleHook(Rails, "save-logs", "terminating", TimeSpan.FromMinutes(10), "CONTINUE");
        var old = world.Group().Instances[0].Id;
        world.Call("TerminateInstanceInAutoScalingGroup", ("InstanceId", old), ("ShouldDecrementDesiredCapacity", "true"));

        world.Clock.Advance(Drain);
        Assert.Equal(("Terminating:Wait", "running"), (world.Instance(old).LifecycleState, world.Ec2State(old)));
        Assert.DoesNotContain(old, world.Ec2.Elbv2.StatesOf(RailsTargets).Keys); // deregistered and drained before the hook, as on AWS
        world.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal("Terminating:Wait", world.Instance(old).LifecycleState);

        world.Ec2.AutoScaling.CompleteLifecycleAction(Rails, "save-logs", old);

        Assert.Equal(("Terminating:Proceed", "shutting-down"), (world.Instance(old).LifecycleState, world.Ec2State(old)));
    }

    [Fact]
    public void A_group_left_alone_for_an_hour_ends_as_one_looked_at_every_second()
    {
        // Hooks, a failed launch, a drain and a replacement, all in the hour: replayed at their own times, not at the next look.
        AutoScalingGroupView Run(bool everySecond)
        {
            using var world = new World();
            world.Ec2.AutoScaling.AddLifecycleHook(Rails, "warm-up", "launching", TimeSpan.FromSeconds(90), "CONTINUE");
            world.Ec2.AutoScaling.AddLifecycleHook(Rails, "save-logs", "terminating", TimeSpan.FromSeconds(45), "CONTINUE");
            world.Ec2.Faults.FailLaunches = 1;
            world.Call("UpdateAutoScalingGroup", ("AutoScalingGroupName", Rails), ("MaxSize", "4"), ("DesiredCapacity", "4"));
            world.Call("TerminateInstanceInAutoScalingGroup", ("InstanceId", world.Group().Instances[0].Id), ("ShouldDecrementDesiredCapacity", "false"));
            for (var second = 0; second < 3600; second += everySecond ? 1 : 3600)
            {
                world.Clock.Advance(TimeSpan.FromSeconds(everySecond ? 1 : 3600));
                if (everySecond) world.Group();
            }
            return world.Group();
        }

        var looked = Run(everySecond: true);
        var alone = Run(everySecond: false);

        Assert.Equal(4, looked.Instances.Count(i => i.LifecycleState == "InService"));
        Assert.Equal(looked.Instances.Select(i => (i.LifecycleState, i.HealthStatus)), alone.Instances.Select(i => (i.LifecycleState, i.HealthStatus)));
        Assert.Equal(looked.Activities.Select(a => (a.Description.Split(':')[0], a.StatusCode, a.StartTime, a.EndTime)), alone.Activities.Select(a => (a.Description.Split(':')[0], a.StatusCode, a.StartTime, a.EndTime)));
    }

    [Fact]
    public void Sizes_outside_min_and_max_are_refused_with_AWS_messages_and_change_nothing()
    {
        using var world = new World();

        Assert.Contains("New SetDesiredCapacity value 5 is above max value 2 for the AutoScalingGroup.",
            world.Refused("SetDesiredCapacity", ("AutoScalingGroupName", Rails), ("DesiredCapacity", "5")).Message);
        Assert.Contains("New SetDesiredCapacity value 0 is below min value 1 for the AutoScalingGroup.",
            world.Refused("SetDesiredCapacity", ("AutoScalingGroupName", Rails), ("DesiredCapacity", "0")).Message);
        Assert.Contains("Desired capacity:5 must be between the specified min size:1 and max size:4",
            world.Refused("UpdateAutoScalingGroup", ("AutoScalingGroupName", Rails), ("MaxSize", "4"), ("DesiredCapacity", "5")).Message);
        Assert.Contains("Max bound, 2, must be greater than or equal to min bound, 3",
            world.Refused("UpdateAutoScalingGroup", ("AutoScalingGroupName", Rails), ("MinSize", "3")).Message);
        Assert.Contains("AutoScalingGroup name not found - null",
            world.Refused("UpdateAutoScalingGroup", ("AutoScalingGroupName", "nope"), ("MaxSize", "3")).Message);
        Assert.Contains("You must use a valid fully-formed launch template. The specified launch template, with template name role/Nope, does not exist.",
            world.Refused("UpdateAutoScalingGroup", ("AutoScalingGroupName", Rails), ("MaxSize", "3"), ("LaunchTemplate.LaunchTemplateName", "role/Nope")).Message);

        Assert.Equal((1, 2, 2, "role/RailsAppServer"), (world.Group().Min, world.Group().Max, world.Group().Desired, world.Group().LaunchTemplateName));
        Assert.All(world.Ec2.Requests, r => Assert.Equal((400, "ValidationError", "autoscaling"), (r.Status, r.ErrorCode, r.Service)));
    }

    [Fact]
    public void Lowering_max_alone_lowers_desired_and_scales_in_an_unprotected_instance_and_all_protected_means_none()
    {
        using var world = new World();
        var (older, newer) = (world.Group().Instances[0].Id, world.Group().Instances[1].Id);
        world.Call("SetInstanceProtection", ("AutoScalingGroupName", Rails), ("InstanceIds.member.1", older), ("ProtectedFromScaleIn", "true"));

        world.Call("UpdateAutoScalingGroup", ("AutoScalingGroupName", Rails), ("MaxSize", "1"));

        Assert.Equal(1, world.Group().Desired);
        Assert.Equal(("InService", "Terminating"), (world.Instance(older).LifecycleState, world.Instance(newer).LifecycleState));
        Assert.Contains($"instance {newer} was selected for termination.", world.Group().Activities[0].Cause);

        world.Call("UpdateAutoScalingGroup", ("AutoScalingGroupName", Rails), ("MaxSize", "2"), ("DesiredCapacity", "2"));
        world.Clock.Advance(Boot);
        var fresh = world.Group().Instances.Single(i => i.LifecycleState == "InService" && i.Id != older).Id;
        world.Call("SetInstanceProtection", ("AutoScalingGroupName", Rails), ("InstanceIds.member.1", fresh), ("ProtectedFromScaleIn", "true"));
        world.Call("SetDesiredCapacity", ("AutoScalingGroupName", Rails), ("DesiredCapacity", "1"));
        Assert.Equal(2, world.Group().Instances.Count(i => i.LifecycleState == "InService")); // every candidate protected: the group waits
        Assert.Contains("The instance i-0nothere is not part of Auto Scaling group Production-RailsAppServer.",
            world.Refused("SetInstanceProtection", ("AutoScalingGroupName", Rails), ("InstanceIds.member.1", "i-0nothere"), ("ProtectedFromScaleIn", "true")).Message);
    }

    [Fact]
    public void Injected_faults_refuse_the_next_mutating_calls_then_pass_and_reads_are_not_refused()
    {
        using var world = new World();
        world.Ec2.AutoScaling.Faults.ScalingActivityInProgress = 1;
        world.Call("DescribeAutoScalingGroups");

        var busy = world.Refused("SetDesiredCapacity", ("AutoScalingGroupName", Rails), ("DesiredCapacity", "1"));
        Assert.Equal("ScalingActivityInProgress", busy.BackendCode);
        Assert.Matches(@"Scaling activity [0-9a-f-]{36} is in progress and blocks this action\.", busy.Message);
        world.Ec2.AutoScaling.Faults.ResourceContention = 1;
        var contended = world.Refused("SetDesiredCapacity", ("AutoScalingGroupName", Rails), ("DesiredCapacity", "1"));
        Assert.Equal("ResourceContention", contended.BackendCode);
        Assert.Contains("You already have a pending update to an Auto Scaling resource (for example, a group, instance, or load balancer).", contended.Message);
        Assert.Equal(2, world.Group().Desired);

        world.Call("SetDesiredCapacity", ("AutoScalingGroupName", Rails), ("DesiredCapacity", "1"));

        Assert.Equal(1, world.Group().Desired);
        Assert.Equal(new[] { 200, 400, 500, 200 }, world.Ec2.Requests.Select(r => r.Status));
    }

    [Fact]
    public void Terminating_an_instance_whose_launch_is_in_progress_is_ScalingActivityInProgress_naming_the_launch()
    {
        using var world = new World();
        world.Call("UpdateAutoScalingGroup", ("AutoScalingGroupName", Rails), ("MaxSize", "3"), ("DesiredCapacity", "3"));
        var fresh = world.Group().Instances.Single(i => i.LifecycleState == "Pending").Id;

        var error = world.Refused("TerminateInstanceInAutoScalingGroup", ("InstanceId", fresh), ("ShouldDecrementDesiredCapacity", "true"));

        Assert.Equal("ScalingActivityInProgress", error.BackendCode);
        Assert.Contains($"Scaling activity {world.Group().Activities[0].Id} is in progress and blocks this action.", error.Message);
        world.Clock.Advance(Boot);
        world.Call("TerminateInstanceInAutoScalingGroup", ("InstanceId", fresh), ("ShouldDecrementDesiredCapacity", "true"));
        Assert.Equal("Terminating", world.Instance(fresh).LifecycleState);
    }

    [Fact]
    public void Signatures_are_checked_for_the_autoscaling_scope_and_shared_throttling_and_denial_answer_as_Auto_Scaling_does()
    {
        using var world = new World();
        using (var wrongSecret = world.Client(secret: "not-the-loopback-secret-9999"))
            Assert.Equal("SignatureDoesNotMatch", Assert.Throws<TtmException>(() => wrongSecret.Call("DescribeAutoScalingGroups", Array.Empty<KeyValuePair<string, string>>(), "reading", CancellationToken.None)).BackendCode);
        using (var otherRegion = world.Client(region: "eu-west-1"))
            Assert.Equal("SignatureDoesNotMatch", Assert.Throws<TtmException>(() => otherRegion.Call("DescribeAutoScalingGroups", Array.Empty<KeyValuePair<string, string>>(), "reading", CancellationToken.None)).BackendCode);
        world.Ec2.Faults.ThrottleNext = 1;
        var throttled = world.Refused("DescribeAutoScalingGroups");
        world.Ec2.AutoScaling.Faults.DeniedActions.Add("SetDesiredCapacity");
        var denied = world.Refused("SetDesiredCapacity", ("AutoScalingGroupName", Rails), ("DesiredCapacity", "1"));

        Assert.Equal((TtmErrorCode.Throttled, "Throttling"), (throttled.Code, throttled.BackendCode));
        Assert.Contains("Rate exceeded", throttled.Message);
        Assert.Equal((TtmErrorCode.AccessDenied, "AccessDenied"), (denied.Code, denied.BackendCode));
        Assert.Contains("autoscaling:SetDesiredCapacity", denied.Message);
        Assert.Equal(new[] { (403, "SignatureDoesNotMatch"), (403, "SignatureDoesNotMatch"), (400, "Throttling"), (403, "AccessDenied") },
            world.Ec2.Requests.Select(r => (r.Status, r.ErrorCode!)));
        Assert.All(world.Ec2.Requests, r => Assert.Equal("autoscaling", r.Service));
        Assert.Equal(2, world.Group().Desired);
    }

    [Fact]
    public void Unknown_actions_parameters_and_versions_are_refused()
    {
        using var world = new World();

        Assert.Equal("InvalidAction", world.Refused("DeleteAutoScalingGroup", ("AutoScalingGroupName", Rails)).BackendCode);
        var misspelt = world.Refused("SetDesiredCapacity", ("AutoScalingGroupName", Rails), ("DesiredCapacty", "1"));
        Assert.Equal("ValidationError", misspelt.BackendCode);
        Assert.Contains("DesiredCapacty", misspelt.Message);
        using var oldVersion = world.Client(service: new AwsQueryService("autoscaling", "2010-08-01", "Auto Scaling"));
        Assert.Equal("InvalidAction", Assert.Throws<TtmException>(() => oldVersion.Call("DescribeAutoScalingGroups", Array.Empty<KeyValuePair<string, string>>(), "reading", CancellationToken.None)).BackendCode);
        Assert.Contains("Value null at 'shouldDecrementDesiredCapacity'", world.Refused("TerminateInstanceInAutoScalingGroup", ("InstanceId", world.Group().Instances[0].Id)).Message);
        Assert.Equal(2, world.Group().Desired);
    }

    [Fact]
    public void DescribeAutoScalingGroups_pages_by_MaxRecords_and_NextToken_and_refuses_bad_ones()
    {
        using var world = new World();
        for (var n = 1; n <= 3; n++) world.Ec2.AutoScaling.AddGroup($"paged-{n}", "role/NodeAppServer");
        world.Ec2.AutoScaling.MaxRecords = 3;

        var pages = new List<List<string>>();
        string? token = null;
        do
        {
            var result = world.Call("DescribeAutoScalingGroups", token == null ? new[] { ("MaxRecords", "50") } : new[] { ("MaxRecords", "50"), ("NextToken", token) });
            pages.Add(Members(result, "AutoScalingGroups").Select(g => Text(g, "AutoScalingGroupName")!).ToList());
            token = Text(result, "NextToken");
        }
        while (token != null);

        Assert.Equal(new[] { 3, 3, 1 }, pages.Select(p => p.Count));
        Assert.Equal(world.Ec2.AutoScaling.Groups.Select(g => g.Name).OrderBy(n => n, StringComparer.Ordinal), pages.SelectMany(p => p));
        Assert.Equal(2, Members(world.Call("DescribeAutoScalingGroups", ("MaxRecords", "2")), "AutoScalingGroups").Count());
        Assert.Equal(new[] { Rails }, Members(world.Call("DescribeAutoScalingGroups", ("AutoScalingGroupNames.member.1", Rails), ("AutoScalingGroupNames.member.2", "nope")), "AutoScalingGroups").Select(g => Text(g, "AutoScalingGroupName")));
        Assert.Equal("InvalidNextToken", world.Refused("DescribeAutoScalingGroups", ("NextToken", "bogus")).BackendCode);
        Assert.Contains("less than or equal to 100", world.Refused("DescribeAutoScalingGroups", ("MaxRecords", "101")).Message);
        Assert.Contains("greater than or equal to 1", world.Refused("DescribeAutoScalingGroups", ("MaxRecords", "0")).Message);
    }

    [Fact]
    public void Scaling_activities_come_newest_first_by_group_or_id_and_page()
    {
        using var world = new World();
        world.Call("UpdateAutoScalingGroup", ("AutoScalingGroupName", Rails), ("MaxSize", "3"), ("DesiredCapacity", "3"));

        var all = Members(world.Call("DescribeScalingActivities", ("AutoScalingGroupName", Rails)), "Activities").ToList();
        var page = world.Call("DescribeScalingActivities", ("AutoScalingGroupName", Rails), ("MaxRecords", "1"));
        var byId = world.Call("DescribeScalingActivities", ("ActivityIds.member.1", Text(all[1], "ActivityId")!));

        Assert.Equal(3, all.Count); // the two seeded launches and the new one
        Assert.Equal(("InProgress", "Successful", "Successful"), (Text(all[0], "StatusCode"), Text(all[1], "StatusCode"), Text(all[2], "StatusCode")));
        Assert.StartsWith("Launching a new EC2 instance: i-", Text(all[0], "Description"));
        Assert.Equal(Text(all[0], "ActivityId"), Text(Members(page, "Activities").Single(), "ActivityId"));
        Assert.NotNull(Text(page, "NextToken"));
        Assert.Equal(Text(all[1], "ActivityId"), Text(Members(byId, "Activities").Single(), "ActivityId"));
        Assert.Empty(Members(world.Call("DescribeScalingActivities", ("AutoScalingGroupName", "nope")), "Activities"));
    }

    [Fact]
    public void A_launch_that_fails_is_a_Failed_activity_with_a_status_message_and_the_group_tries_again()
    {
        using var world = new World();
        world.Ec2.Faults.FailLaunches = 1;
        world.Call("UpdateAutoScalingGroup", ("AutoScalingGroupName", Rails), ("MaxSize", "3"), ("DesiredCapacity", "3"));

        world.Clock.Advance(Boot);

        var failed = world.Group().Activities[1];
        Assert.Equal("Failed", failed.StatusCode);
        Assert.EndsWith("Launching EC2 instance failed.", failed.StatusMessage);
        Assert.Contains("Server.InternalError", failed.StatusMessage);
        var retry = world.Group().Instances.Single(i => i.LifecycleState == "Pending");
        world.Clock.Advance(Boot);
        Assert.Equal("InService", world.Instance(retry.Id).LifecycleState);
        Assert.Equal(3, world.Group().Instances.Count);
    }

    [Fact]
    public void Suspended_Launch_stops_launches_until_resumed_and_an_unknown_process_is_refused()
    {
        using var world = new World();
        world.Call("SuspendProcesses", ("AutoScalingGroupName", Rails), ("ScalingProcesses.member.1", "Launch"));
        world.Call("UpdateAutoScalingGroup", ("AutoScalingGroupName", Rails), ("MaxSize", "3"), ("DesiredCapacity", "3"));
        Assert.Equal(2, world.Group().Instances.Count);

        world.Call("ResumeProcesses", ("AutoScalingGroupName", Rails), ("ScalingProcesses.member.1", "Launch"));

        Assert.Single(world.Group().Instances, i => i.LifecycleState == "Pending");
        Assert.Contains("Invalid scaling process name(s): Lunch.", world.Refused("SuspendProcesses", ("AutoScalingGroupName", Rails), ("ScalingProcesses.member.1", "Lunch")).Message);
        world.Call("SuspendProcesses", ("AutoScalingGroupName", Rails));
        Assert.Equal(9, world.Group().SuspendedProcesses.Count);
    }

    [Fact]
    public void Tags_that_propagate_go_to_instances_launched_after_and_DeleteTags_removes_them()
    {
        using var world = new World();
        world.Call("CreateOrUpdateTags", ("Tags.member.1.ResourceId", Rails), ("Tags.member.1.ResourceType", "auto-scaling-group"),
            ("Tags.member.1.Key", "team"), ("Tags.member.1.Value", "web"), ("Tags.member.1.PropagateAtLaunch", "true"));
        world.Call("UpdateAutoScalingGroup", ("AutoScalingGroupName", Rails), ("MaxSize", "3"), ("DesiredCapacity", "3"));

        var fresh = world.Group().Instances.Single(i => i.LifecycleState == "Pending").Id;
        Assert.Equal("web", TagsOf(world, fresh)["team"]);
        Assert.False(TagsOf(world, world.Group().Instances[0].Id).ContainsKey("team"));
        Assert.Contains("reserved", world.Refused("CreateOrUpdateTags", ("Tags.member.1.ResourceId", Rails), ("Tags.member.1.ResourceType", "auto-scaling-group"), ("Tags.member.1.Key", "aws:x")).Message);

        world.Call("DeleteTags", ("Tags.member.1.ResourceId", Rails), ("Tags.member.1.ResourceType", "auto-scaling-group"), ("Tags.member.1.Key", "team"));

        Assert.DoesNotContain(world.Group().Tags, t => t.Key == "team");
    }

    [Fact]
    public void Answers_and_errors_have_the_Auto_Scaling_shapes_in_its_namespace()
    {
        using var world = new World();
        XNamespace ns = "http://autoscaling.amazonaws.com/doc/2011-01-01/";

        var (okStatus, ok) = world.Raw($"Action=SetDesiredCapacity&Version=2011-01-01&AutoScalingGroupName={Rails}&DesiredCapacity=2");
        var (errorStatus, error) = world.Raw("Action=SetDesiredCapacity&Version=2011-01-01&AutoScalingGroupName=nope&DesiredCapacity=2");

        Assert.Equal(200, okStatus);
        Assert.Equal(ns + "SetDesiredCapacityResponse", ok.Root!.Name);
        Assert.Equal(new[] { ns + "ResponseMetadata" }, ok.Root.Elements().Select(e => e.Name));
        Assert.NotEmpty(ok.Root.Element(ns + "ResponseMetadata")!.Element(ns + "RequestId")!.Value);
        Assert.Equal(400, errorStatus);
        Assert.Equal(ns + "ErrorResponse", error.Root!.Name);
        var body = error.Root.Element(ns + "Error")!;
        Assert.Equal(("Sender", "ValidationError", "AutoScalingGroup name not found - null"),
            (body.Element(ns + "Type")!.Value, body.Element(ns + "Code")!.Value, body.Element(ns + "Message")!.Value));
        Assert.NotEmpty(error.Root.Element(ns + "RequestId")!.Value);
    }

    // ---- The world ---------------------------------------------------------------------------

    private static XElement? Child(XElement? parent, string name) => AwsQueryClient.Child(parent, name);

    private static string? Text(XElement? parent, string name) => Child(parent, name)?.Value;

    private static IEnumerable<XElement> Members(XElement? parent, string list) => AwsQueryClient.Members(parent, list);

    private static Dictionary<string, string> TagsOf(World world, string instanceId) =>
        world.Ec2.Instances.Single(i => i.Id == instanceId).Tags.All.ToDictionary(t => t.Key, t => t.Value);

    /// <summary>The runbook seed with its Auto Scaling groups on a manual clock, behind the loopback endpoint, and a signed autoscaling client.</summary>
    private sealed class World : IDisposable
    {
        private static readonly AwsQueryService AutoScaling = new("autoscaling", "2011-01-01", "Auto Scaling");
        private readonly AwsQueryClient _client;

        public World()
        {
            Clock = new ManualClock(new DateTimeOffset(DateTimeOffset.UtcNow.Year, 1, 1, 9, 0, 0, TimeSpan.Zero));
            var settings = new Ec2Settings { Now = () => Clock.UtcNow };
            settings.UseKey(TestAwsEnvironment.AccessKey, TestAwsEnvironment.SecretKey);
            Ec2 = new Ec2Fleet(settings);
            RunbookSeed.Apply(Ec2, new TargetGroupSeed(Drain, TimeSpan.FromSeconds(10), 3), new AutoScalingSeed());
            Endpoint = Endpoint.Start(Ec2);
            _client = Client();
        }

        public ManualClock Clock { get; }

        public Ec2Fleet Ec2 { get; }

        public Endpoint Endpoint { get; }

        /// <summary>A client that does not retry, so each refusal is one logged request.</summary>
        public AwsQueryClient Client(string region = "us-east-1", string secret = TestAwsEnvironment.SecretKey, AwsQueryService? service = null) =>
            new(service ?? AutoScaling, region, Endpoint.Url, new BasicAWSCredentials(TestAwsEnvironment.AccessKey, secret), maxRetries: 0);

        public XElement Call(string action, params (string Key, string Value)[] parameters) =>
            _client.Call(action, parameters.Select(p => AwsQueryClient.Pair(p.Key, p.Value)), action, CancellationToken.None);

        public TtmException Refused(string action, params (string Key, string Value)[] parameters) => Assert.Throws<TtmException>(() => Call(action, parameters));

        /// <summary>A signed POST of <paramref name="form"/>, answered as it came: status and XML.</summary>
        public (int Status, XDocument Answer) Raw(string form)
        {
            using var http = new HttpClient();
            var body = Encoding.UTF8.GetBytes(form);
            using var request = new HttpRequestMessage(HttpMethod.Post, Endpoint.Url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
            QuerySigner.Sign(request, body, new BasicAWSCredentials(TestAwsEnvironment.AccessKey, TestAwsEnvironment.SecretKey).GetCredentials(), "us-east-1", "autoscaling", DateTime.UtcNow);
            using var response = http.Send(request);
            return ((int)response.StatusCode, XDocument.Parse(response.Content.ReadAsStringAsync().GetAwaiter().GetResult()));
        }

        public AutoScalingGroupView Group(string name = Rails) => Ec2.AutoScaling.Group(name);

        public AutoScalingInstanceView Instance(string id, string group = Rails) => Group(group).Instances.Single(i => i.Id == id);

        public string Ec2State(string id) => Ec2.StateOf(Ec2.Instances.Single(i => i.Id == id));

        public void Dispose()
        {
            _client.Dispose();
            Endpoint.Dispose();
        }
    }
}

using System;
using System.Linq;
using System.Threading;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>Servers of an Auto Scaling group are the group's: Rebundle never launches into their farm role or terminates them.</summary>
public class AutoScalingTests
{
    private static (AwsFleet Fleet, Server Server) FleetWithGroup(string alias)
    {
        var fleet = new AwsFleet();
        var server = fleet.Fleet.GetServers(new[] { "Dev" }, new[] { alias }, null).Items.Single();
        fleet.Ec2.SetTag(server.Id, "aws:autoscaling:groupName", "dev-reports-asg");
        fleet.Ec2.ClearRequests();
        return (fleet, server);
    }

    [Fact]
    public void Recycling_a_farm_role_of_an_Auto_Scaling_group_is_refused_before_any_change_pointing_to_instance_refresh()
    {
        var (fleet, server) = FleetWithGroup("Reports");
        using var _ = fleet;
        var recycle = new RecycleService(fleet.Fleet, new RecordingReporter());
        var plan = recycle.Plan(new[] { "Dev" }, new[] { "Reports" }, batchSize: 1).Items.Single();

        var error = Assert.Throws<RecycleStoppedException>(() => recycle.Execute(plan, TimeSpan.FromMinutes(15), CancellationToken.None));

        Assert.Equal(TtmErrorCode.ManagedByAutoScaling, error.Code);
        Assert.Contains("Dev/Reports", error.Message);
        Assert.Contains("dev-reports-asg", error.Message);
        Assert.Contains("instance refresh", error.Message);
        Assert.Empty(fleet.Mutations);
        Assert.Equal("running", fleet.Ec2.StateOf(fleet.Ec2.Instances.Single(i => i.Id == server.Id)));
    }

    [Fact]
    public void A_server_of_an_Auto_Scaling_group_is_never_terminated_even_one_this_session_never_read()
    {
        var (fleet, server) = FleetWithGroup("Sidekiq");
        using var _ = fleet;
        using var other = fleet.AnotherMachine("bob", "laptop-b"); // a fresh session: it has read nothing

        var error = Assert.Throws<TtmException>(() => other.TerminateServer(server));

        Assert.Equal(TtmErrorCode.ManagedByAutoScaling, error.Code);
        Assert.Equal(0, fleet.Calls("TerminateInstances"));
        Assert.Equal("running", fleet.Ec2.StateOf(fleet.Ec2.Instances.Single(i => i.Id == server.Id)));
    }

    [Fact]
    public void A_farm_recycle_leaves_the_Auto_Scaling_group_alone_and_its_other_replacements_are_not_left_running()
    {
        var (fleet, server) = FleetWithGroup("Reports");
        using var _ = fleet;
        var recycle = new RecycleService(fleet.Fleet, new RecordingReporter());
        var plan = recycle.Plan(new[] { "Dev" }, null, batchSize: 10).Items.Single();

        var error = Assert.Throws<RecycleStoppedException>(() => recycle.Execute(plan, TimeSpan.FromMinutes(15), CancellationToken.None));

        Assert.Equal(TtmErrorCode.ManagedByAutoScaling, error.Code);
        Assert.Equal("running", fleet.Ec2.StateOf(fleet.Ec2.Instances.Single(i => i.Id == server.Id)));
        Assert.DoesNotContain(fleet.Mutations, m => m.Action == "TerminateInstances" && m.Parameters.Values.Contains(server.Id));
        // Whatever it launched before reaching the group's farm role is terminated again: Dev is as it was.
        var live = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Dev" } }).Where(s => s.Status is ServerStatus.Running or ServerStatus.Pending).ToList();
        Assert.Equal(6, live.Count);
    }
}

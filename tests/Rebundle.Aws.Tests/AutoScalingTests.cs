using System;
using System.Linq;
using System.Threading;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>Servers of an Auto Scaling group that is not their farm role are the group's: Rebundle never launches into their farm role or terminates them, and says how to bring the group in.</summary>
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
    public void Recycling_a_named_farm_role_whose_servers_an_Auto_Scaling_group_owns_is_refused_by_the_plan_pointing_to_bringing_the_group_in()
    {
        var (fleet, server) = FleetWithGroup("Reports");
        using var _ = fleet;
        var recycle = new RecycleService(fleet.Fleet, new RecordingReporter());

        var error = Assert.Throws<TtmException>(() => recycle.Plan(new[] { "Dev" }, new[] { "Sidekiq", "Reports" }, batchSize: 1));

        Assert.Equal(TtmErrorCode.ManagedByAutoScaling, error.Code);
        Assert.Contains("Dev/Reports", error.Message);
        Assert.Contains("dev-reports-asg", error.Message);
        Assert.Contains("New-TtmFarmRole -AutoScalingGroup dev-reports-asg", error.Message);
        Assert.Empty(fleet.Mutations); // Sidekiq, named beside it, was not recycled either
        Assert.Equal("running", fleet.Ec2.StateOf(fleet.Ec2.Instances.Single(i => i.Id == server.Id)));
    }

    [Fact]
    public void Recycling_a_piped_server_of_an_Auto_Scaling_group_is_refused_by_the_plan()
    {
        var (fleet, server) = FleetWithGroup("Reports");
        using var _ = fleet;
        var recycle = new RecycleService(fleet.Fleet, new RecordingReporter());
        var piped = fleet.Fleet.GetServers(new[] { "Dev" }, new[] { "Reports" }, null).Items.Single();

        var error = Assert.Throws<TtmException>(() => recycle.Plan(new RecycleScope().AddServer(piped), batchSize: 1));

        Assert.Equal(TtmErrorCode.ManagedByAutoScaling, error.Code);
        Assert.Empty(fleet.Mutations);
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
    public void A_whole_farm_recycle_skips_the_Auto_Scaling_farm_role_with_a_warning_and_recycles_the_rest()
    {
        var (fleet, server) = FleetWithGroup("Reports");
        using var _ = fleet;
        var reporter = new RecordingReporter();
        var recycle = new RecycleService(fleet.Fleet, reporter);
        var before = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Dev" } }).Where(s => s.Status == ServerStatus.Running).ToList();
        var plan = recycle.Plan(new[] { "Dev" }, null, batchSize: 10).Items.Single();

        var replaced = recycle.Execute(plan, TimeSpan.FromMinutes(15), CancellationToken.None);

        Assert.Contains(reporter.Warnings, w => w.Contains("Dev/Reports") && w.Contains("dev-reports-asg") && w.Contains("New-TtmFarmRole -AutoScalingGroup"));
        Assert.Equal(before.Count - 1, replaced.Count);
        Assert.DoesNotContain(replaced, r => r.Alias == "Reports");
        Assert.Equal("running", fleet.Ec2.StateOf(fleet.Ec2.Instances.Single(i => i.Id == server.Id)));
        Assert.DoesNotContain(fleet.Mutations, m => m.Parameters.Values.Contains(server.Id));
        Assert.Equal(0, fleet.Ec2.Instances.Count(i => i.Tags["ttm:farm"] == "Dev" && i.Tags["ttm:alias"] == "Reports" && i.Id != server.Id));
        // Every other farm role is at its count, on new servers only.
        var live = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Dev" } }).Where(s => s.Status is ServerStatus.Running or ServerStatus.Pending).ToList();
        Assert.Equal(before.Count, live.Count);
        Assert.Equal(new[] { server.Id }, live.Select(s => s.Id).Intersect(before.Select(s => s.Id)));
    }
}

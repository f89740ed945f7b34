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

/// <summary>Launches in batches on EC2: one RunInstances per farm role, each server numbered, and what a recycle costs in requests.</summary>
public class BatchTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(15);

    private static FarmRole ProductionRails(AwsFleet fleet) =>
        fleet.Backend.GetFarmRoles(new[] { "Production" }).Single(r => r.Alias == "RailsAppServer");

    [Fact]
    public void A_batch_is_one_RunInstances_of_n_and_every_server_carries_its_own_index_and_name()
    {
        using var fleet = new AwsFleet();

        var servers = fleet.Backend.LaunchServers(ProductionRails(fleet), 3);

        Assert.Equal(new[] { "RailsAppServer.3", "RailsAppServer.4", "RailsAppServer.5" }, servers.Select(s => s.Name));
        var run = Assert.Single(fleet.Ec2.Requests, r => r.Action == "RunInstances");
        Assert.Equal("3", run.Parameters["MinCount"]); // all or nothing
        Assert.Equal("3", run.Parameters["MaxCount"]);
        foreach (var server in servers)
        {
            var index = server.Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(new Dictionary<string, string>
            {
                ["Name"] = "Production/RailsAppServer." + index, ["ttm:farm"] = "Production", ["ttm:alias"] = "RailsAppServer", ["ttm:role"] = "RailsAppServer", ["ttm:index"] = index,
            }, fleet.InstanceTags(server.Id));
        }
        // EC2 shows a new instance to CreateTags late (strict endpoint): tagging waited for it rather than failing.
        Assert.Equal(3, fleet.Ec2.Requests.Count(r => r.Action == "CreateTags" && r.Status == 200));
        Assert.Contains(fleet.Ec2.Requests, r => r.Action == "CreateTags" && r.ErrorCode == "InvalidInstanceID.NotFound");
        // What EC2 shows now is what the launch returned.
        fleet.Clock.Advance(TimeSpan.FromMinutes(5));
        var read = fleet.Backend.GetServers(new ServerQuery { Ids = servers.Select(s => s.Id).ToList() });
        Assert.Equal(servers.Select(s => s.Name).OrderBy(n => n), read.Select(s => s.Name).OrderBy(n => n));
    }

    [Fact]
    public void A_batch_whose_tagging_fails_is_still_used_by_the_recycle_not_left_as_surplus()
    {
        using var fleet = new AwsFleet();
        var recycle = new RecycleService(fleet.Fleet, new RecordingReporter());
        var olds = fleet.Fleet.GetServers(new[] { "Production" }, new[] { "RailsAppServer" }, null).Items;
        var plan = recycle.Plan(new[] { "Production" }, new[] { "RailsAppServer" }, batchSize: 2).Items.Single();
        fleet.Ec2.Faults.DeniedActions.Add("CreateTags"); // RunInstances succeeds, numbering the servers does not

        var error = Assert.Throws<RecycleStoppedException>(() => recycle.Execute(plan, Timeout, CancellationToken.None));

        Assert.Equal(TtmErrorCode.AccessDenied, error.Code);
        Assert.Contains("Launched 2 servers of farm role Production/RailsAppServer", error.Message);
        // The two launched replacements ran and replaced their olds: two servers run, none of them old.
        Assert.Equal(2, error.Completed.Count);
        fleet.Clock.Advance(TimeSpan.FromMinutes(5));
        var running = fleet.Fleet.GetServers(new[] { "Production" }, new[] { "RailsAppServer" }, new[] { ServerStatus.Running }).Items;
        Assert.Equal(2, running.Count);
        Assert.Empty(running.Select(s => s.Id).Intersect(olds.Select(s => s.Id)));
    }

    /// <summary>Production's RailsAppServer grown to its count of 30 running servers.</summary>
    private static AwsFleet ThirtyServers()
    {
        var fleet = new AwsFleet();
        fleet.Ec2.SetTag(fleet.Ec2.LaunchTemplateNamed("farm/Production/RailsAppServer")!.Id, "ttm:count", "30"); // not surplus
        fleet.Backend.LaunchServers(ProductionRails(fleet), 28);
        fleet.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(30, fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, Aliases = new[] { "RailsAppServer" }, Statuses = new[] { ServerStatus.Running } }).Count);
        return fleet;
    }

    private static bool ById(LoggedRequest r) =>
        r.Parameters.Any(p => p.Key.StartsWith("Filter.", StringComparison.Ordinal) && p.Key.EndsWith(".Name", StringComparison.Ordinal) && p.Value == "instance-id");

    /// <summary>The recycle's poll rounds: its reads by id and the status checks read with them, grouped by the (manual) clock.</summary>
    private static List<List<string>> PollRounds(AwsFleet fleet) => fleet.Ec2.Requests
        .Where(r => (r.Action == "DescribeInstances" && ById(r)) || r.Action == "DescribeInstanceStatus")
        .GroupBy(r => r.At).Select(g => g.Select(r => r.Action).ToList()).ToList();

    [Theory]
    [InlineData(3)]
    [InlineData(30)]
    public void A_recycle_costs_one_RunInstances_per_refill_one_TerminateInstances_per_settle_and_the_same_few_reads_per_poll(int batchSize)
    {
        using var fleet = ThirtyServers();
        var recycle = new RecycleService(fleet.Fleet, new RecordingReporter());
        var plan = recycle.Plan(new[] { "Production" }, new[] { "RailsAppServer" }, batchSize).Items.Single();
        fleet.Ec2.ClearRequests();

        var done = recycle.Execute(plan, Timeout, CancellationToken.None);

        Assert.Equal(30, done.Count);
        // Every boot takes as long, so the window empties and refills whole: 30 / batch refills, each one RunInstances of a batch.
        var runs = fleet.Ec2.Requests.Where(r => r.Action == "RunInstances").ToList();
        Assert.Equal(30 / batchSize, runs.Count);
        Assert.All(runs, r => Assert.Equal(batchSize.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Parameters["MaxCount"]));
        // The olds of a window's replacements, running in the same round, go in one TerminateInstances.
        Assert.Equal(30 / batchSize, fleet.Calls("TerminateInstances"));
        // A poll round is one DescribeInstances by id and at most one DescribeInstanceStatus, whether 3 or 30 are in flight.
        var rounds = PollRounds(fleet);
        Assert.NotEmpty(rounds);
        Assert.All(rounds, round =>
        {
            Assert.Equal(1, round.Count(a => a == "DescribeInstances"));
            Assert.InRange(round.Count(a => a == "DescribeInstanceStatus"), 0, 1);
        });
    }
}

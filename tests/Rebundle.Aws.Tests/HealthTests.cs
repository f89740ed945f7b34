using System;
using System.Linq;
using System.Threading;
using Amazon.EC2.Model;
using Rebundle.Aws.Ec2;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>
/// Strict health: a server is Running only when EC2 reports both status checks "ok". Checks
/// reported late, "initializing" or "insufficient-data" keep it Pending; "impaired" fails it.
/// </summary>
public class HealthTests
{
    // Boots in 30 s; its checks are reported 1 min after it runs, initialize for 2 min, then
    // read insufficient-data for 2 min: "ok" only 4.5 min after the launch.
    private static void LateChecks(Rebundle.Ec2Endpoint.Ec2Settings s)
    {
        s.BootTime = TimeSpan.FromSeconds(30);
        s.StatusReportDelay = TimeSpan.FromMinutes(1);
        s.StatusCheckTime = TimeSpan.FromMinutes(2);
        s.InsufficientDataTime = TimeSpan.FromMinutes(2);
    }

    private static readonly TimeSpan HealthyAfter = TimeSpan.FromSeconds(30 + 4 * 60);

    [Fact]
    public void A_server_is_Pending_while_its_checks_are_unreported_initializing_or_insufficient_data()
    {
        using var fleet = new AwsFleet(configure: LateChecks);
        var server = fleet.Backend.LaunchServer(fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Sidekiq"));
        ServerStatus StatusOf() => fleet.Backend.GetServers(new ServerQuery { Ids = new[] { server.Id } }).Single().Status;
        var instance = fleet.Ec2.Instances.Single(i => i.Id == server.Id);

        fleet.Clock.Advance(TimeSpan.FromSeconds(45)); // running, checks not reported yet
        Assert.Equal("running", fleet.Ec2.StateOf(instance));
        Assert.Equal(ServerStatus.Pending, StatusOf());

        fleet.Clock.Advance(TimeSpan.FromMinutes(1)); // reported, initializing
        Assert.Equal(ServerStatus.Pending, StatusOf());

        fleet.Clock.Advance(TimeSpan.FromMinutes(2)); // insufficient-data
        Assert.Equal("insufficient-data", instance.StatusChecksAt(fleet.Clock.UtcNow, TimeSpan.FromMinutes(2), default, TimeSpan.FromMinutes(2)));
        Assert.Equal(ServerStatus.Pending, StatusOf());
        Assert.DoesNotContain(fleet.Backend.GetServers(new ServerQuery { Statuses = new[] { ServerStatus.Running } }), s => s.Id == server.Id);

        fleet.Clock.Advance(TimeSpan.FromMinutes(1)); // both ok
        Assert.Equal(ServerStatus.Running, StatusOf());
    }

    [Theory]
    [InlineData("ok", "ok", ServerStatus.Running)]
    [InlineData("ok", "insufficient-data", ServerStatus.Pending)]
    [InlineData("insufficient-data", "ok", ServerStatus.Pending)]
    [InlineData("ok", "not-applicable", ServerStatus.Pending)]
    [InlineData("ok", "initializing", ServerStatus.Pending)]
    [InlineData("ok", null, ServerStatus.Pending)]
    [InlineData("impaired", "ok", ServerStatus.Failed)]
    [InlineData("insufficient-data", "impaired", ServerStatus.Failed)]
    public void Both_checks_must_be_ok(string? instanceCheck, string? systemCheck, ServerStatus expected)
    {
        InstanceStatusSummary? Summary(string? status) => status == null ? null : new InstanceStatusSummary { Status = status };
        var checks = new InstanceStatus { InstanceId = "i-1", Status = Summary(instanceCheck), SystemStatus = Summary(systemCheck) };

        Assert.Equal(expected, AwsMapping.StatusAfterChecks(checks));
    }

    [Fact]
    public void A_recycle_waits_through_late_and_insufficient_data_checks_before_terminating_the_old_server()
    {
        using var fleet = new AwsFleet(configure: LateChecks);
        var recycle = new RecycleService(fleet.Fleet, new RecordingReporter());
        var old = fleet.Fleet.GetServers(new[] { "Dev" }, new[] { "Reports" }, null).Items.Single();
        var plan = recycle.Plan(new[] { "Dev" }, new[] { "Reports" }, batchSize: 1).Items.Single();
        var started = fleet.Clock.UtcNow;

        var done = recycle.Execute(plan, TimeSpan.FromMinutes(15), CancellationToken.None).Single();

        var terminate = fleet.Ec2.Requests.Single(r => r.Action == "TerminateInstances");
        Assert.Equal(old.Id, terminate.Parameters["InstanceId.1"]);
        Assert.True(terminate.At >= started + HealthyAfter, $"old server terminated at +{terminate.At - started}, before its replacement's checks were ok (+{HealthyAfter})");
        Assert.Equal("ok", fleet.Ec2.Instances.Single(i => i.Id == done.NewId).StatusChecksAt(terminate.At, TimeSpan.FromMinutes(2), default, TimeSpan.FromMinutes(2)));
    }
}

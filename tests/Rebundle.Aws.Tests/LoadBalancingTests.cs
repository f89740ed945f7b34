using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using Amazon.Runtime;
using Rebundle.Aws.Elb;
using Rebundle.Aws.Query;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Ec2Endpoint;
using Rebundle.Errors;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>
/// ELBv2 target groups through the hand-written Query client, signed and sent over HTTP to the
/// loopback endpoint's ELBv2 part, which keeps AWS's target states over the shared manual clock:
/// initial until interval × healthy threshold, unhealthy on demand, draining for the
/// deregistration delay after a deregister or a terminate, then gone.
/// </summary>
public class LoadBalancingTests
{
    // A registered target is healthy 10 s × 3 = 30 s after registering; a deregistered one drains 60 s.
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private const int Threshold = 3;
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(60);

    private static (AwsFleet Fleet, ILoadBalancing Elb, FarmRole FarmRole, Server Server) DevRails(AwsFleet? existing = null)
    {
        var fleet = existing ?? new AwsFleet();
        fleet.Ec2.Elbv2.AddTargetGroup("web", Delay, Interval, Threshold);
        var farmRole = fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "RailsAppServer");
        var server = fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Dev" }, Aliases = new[] { "RailsAppServer" } }).Single();
        return (fleet, fleet.Backend.Capability<ILoadBalancing>()!, farmRole, server);
    }

    private static TargetHealth HealthOf(ILoadBalancing elb, string group, string serverId) => elb.ReadTargetGroups(new[] { group }).Single().HealthOf(serverId);

    [Fact]
    public void Farm_roles_show_the_target_groups_of_their_tag_trimmed_without_empties()
    {
        using var fleet = new AwsFleet();
        var template = fleet.Ec2.LaunchTemplateNamed("farm/Dev/RailsAppServer")!;
        fleet.Ec2.SetTag(template.Id, "ttm:target-groups", " web , api,, web");

        var roles = fleet.Backend.GetFarmRoles(new[] { "Dev" });

        Assert.Equal(new[] { "web", "api" }, roles.Single(r => r.Alias == "RailsAppServer").TargetGroups);
        Assert.True(roles.Single(r => r.Alias == "RailsAppServer").IsLoadBalanced);
        Assert.Empty(roles.Single(r => r.Alias == "Sidekiq").TargetGroups);
    }

    [Fact]
    public void A_registered_server_is_initial_until_interval_times_threshold_then_healthy()
    {
        var (fleet, elb, farmRole, server) = DevRails();
        using var _ = fleet;

        elb.RegisterTargets(farmRole, "web", new[] { server });
        Assert.Equal(TargetHealth.Initial, HealthOf(elb, "web", server.Id));
        fleet.Clock.Advance(Interval * Threshold - TimeSpan.FromSeconds(1));
        Assert.Equal(TargetHealth.Initial, HealthOf(elb, "web", server.Id));
        fleet.Clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(TargetHealth.Healthy, HealthOf(elb, "web", server.Id));
        Assert.Equal(server.Id, fleet.Ec2.Requests.Single(r => r.Action == "RegisterTargets").Parameters["Targets.member.1.Id"]);
    }

    [Fact]
    public void Registering_twice_changes_nothing_and_a_target_made_unhealthy_reads_unhealthy_until_cleared()
    {
        var (fleet, elb, farmRole, server) = DevRails();
        using var _ = fleet;
        elb.RegisterTargets(farmRole, "web", new[] { server });
        fleet.Clock.Advance(TimeSpan.FromMinutes(1));
        elb.RegisterTargets(farmRole, "web", new[] { server }); // already registered: stays healthy, no new health checks

        Assert.Equal(TargetHealth.Healthy, HealthOf(elb, "web", server.Id));
        fleet.Ec2.Elbv2.SetUnhealthy("web", server.Id);
        Assert.Equal(TargetHealth.Unhealthy, HealthOf(elb, "web", server.Id));
        fleet.Ec2.Elbv2.SetUnhealthy("web", server.Id, unhealthy: false);
        Assert.Equal(TargetHealth.Healthy, HealthOf(elb, "web", server.Id));
    }

    [Fact]
    public void A_deregistered_server_drains_for_the_deregistration_delay_then_is_gone()
    {
        var (fleet, elb, farmRole, server) = DevRails();
        using var _ = fleet;
        elb.RegisterTargets(farmRole, "web", new[] { server });
        fleet.Clock.Advance(TimeSpan.FromMinutes(1));

        elb.DeregisterTargets(farmRole, "web", new[] { server });

        var state = elb.ReadTargetGroups(new[] { "web" }).Single();
        Assert.Equal(Delay, state.DeregistrationDelay);
        Assert.Equal(TargetHealth.Draining, state.HealthOf(server.Id));
        fleet.Clock.Advance(Delay - TimeSpan.FromSeconds(1));
        Assert.Equal(TargetHealth.Draining, HealthOf(elb, "web", server.Id));
        fleet.Clock.Advance(TimeSpan.FromSeconds(1));
        var gone = elb.ReadTargetGroups(new[] { "web" }).Single();
        Assert.DoesNotContain(server.Id, gone.Targets.Keys);
        Assert.Equal(TargetHealth.Unused, gone.HealthOf(server.Id));
    }

    [Fact]
    public void A_registered_server_that_is_terminated_drains_then_is_gone()
    {
        var (fleet, elb, farmRole, server) = DevRails();
        using var _ = fleet;
        elb.RegisterTargets(farmRole, "web", new[] { server });
        fleet.Clock.Advance(TimeSpan.FromMinutes(1));

        fleet.Backend.TerminateServers(new[] { server });

        Assert.Equal(TargetHealth.Draining, HealthOf(elb, "web", server.Id));
        fleet.Clock.Advance(Delay);
        Assert.Empty(elb.ReadTargetGroups(new[] { "web" }).Single().Targets);
    }

    [Fact]
    public void An_unknown_target_group_is_TtmTargetGroupNotFound_for_reads_and_registrations()
    {
        var (fleet, elb, farmRole, server) = DevRails();
        using var _ = fleet;

        var read = Assert.Throws<TtmException>(() => elb.ReadTargetGroups(new[] { "web", "nope" }));
        var register = Assert.Throws<TtmException>(() => elb.RegisterTargets(farmRole, "nope", new[] { server }));

        Assert.Equal((TtmErrorCode.TargetGroupNotFound, "TargetGroupNotFound"), (read.Code, read.BackendCode));
        Assert.Contains("nope", read.Message);
        Assert.Equal(TtmErrorCode.TargetGroupNotFound, register.Code);
        Assert.Equal(0, fleet.Calls("RegisterTargets"));
        Assert.Equal(400, fleet.Ec2.Requests.First(r => r.Action == "DescribeTargetGroups").Status);
    }

    [Fact]
    public void Registering_a_server_that_is_not_running_is_TtmInvalidTarget_and_registers_nothing()
    {
        var (fleet, elb, farmRole, _) = DevRails();
        using var __ = fleet;
        var pending = fleet.Backend.LaunchServer(farmRole); // boots for 20 s

        var error = Assert.Throws<TtmException>(() => elb.RegisterTargets(farmRole, "web", new[] { pending }));

        Assert.Equal((TtmErrorCode.InvalidTarget, "InvalidTarget"), (error.Code, error.BackendCode));
        Assert.Contains(pending.Id, error.Message);
        Assert.Empty(fleet.Ec2.Elbv2.StatesOf("web"));
    }

    [Fact]
    public void Each_read_is_one_DescribeTargetHealth_per_target_group_names_and_delays_are_read_once()
    {
        var (fleet, elb, farmRole, server) = DevRails();
        using var _ = fleet;
        fleet.Ec2.Elbv2.AddTargetGroup("api", Delay, Interval, Threshold);
        fleet.Ec2.Elbv2.AddHealthyTargets("api", fleet.Backend.GetServers(new ServerQuery { Farms = new[] { "Production" } }).Select(s => s.Id));
        fleet.Ec2.ClearRequests();

        for (var round = 0; round < 3; round++)
            Assert.Equal(new[] { "web", "api" }, elb.ReadTargetGroups(new[] { "web", "api" }).Select(g => g.Name));
        elb.RegisterTargets(farmRole, "web", new[] { server });

        Assert.Equal(6, fleet.Calls("DescribeTargetHealth"));
        Assert.Equal(1, fleet.Calls("DescribeTargetGroups"));
        Assert.Equal(2, fleet.Calls("DescribeTargetGroupAttributes"));
        Assert.All(fleet.Ec2.Requests, r => Assert.Equal("elasticloadbalancing", r.Service));
    }

    [Fact]
    public void Target_groups_are_resolved_20_names_a_call_following_NextMarker_pages()
    {
        using var fleet = new AwsFleet();
        fleet.Ec2.Elbv2.MaxPageSize = 3;
        var names = Enumerable.Range(1, 25).Select(i => $"tg-{i:00}").ToList();
        foreach (var name in names) fleet.Ec2.Elbv2.AddTargetGroup(name);
        var elb = fleet.Backend.Capability<ILoadBalancing>()!;

        var read = elb.ReadTargetGroups(names);

        Assert.Equal(names, read.Select(g => g.Name));
        Assert.All(read, g => Assert.Equal(TimeSpan.FromSeconds(300), g.DeregistrationDelay));
        var describes = fleet.Ec2.Requests.Where(r => r.Action == "DescribeTargetGroups").ToList();
        Assert.Equal(7 + 2, describes.Count); // 20 names in 7 pages of 3, then 5 in 2
        Assert.All(describes, r => Assert.False(r.Parameters.ContainsKey("Names.member.21")));
        Assert.Equal(7, describes.Count(r => r.Parameters.ContainsKey("Names.member.20")));
        Assert.Contains(describes, r => r.Parameters.ContainsKey("Marker"));
    }

    [Fact]
    public void Throttled_reads_are_retried_with_backoff_until_ELBv2_answers()
    {
        var (fleet, elb, _, _) = DevRails();
        using var __ = fleet;
        elb.ReadTargetGroups(new[] { "web" });
        fleet.Ec2.ClearRequests();
        fleet.Ec2.Faults.ThrottleNext = 2;
        fleet.Ec2.Faults.ThrottleAction = "DescribeTargetHealth";

        elb.ReadTargetGroups(new[] { "web" });

        Assert.Equal(new[] { 400, 400, 200 }, fleet.Ec2.Requests.Select(r => r.Status));
        Assert.Equal(new[] { "Throttling", "Throttling", null }, fleet.Ec2.Requests.Select(r => r.ErrorCode));
    }

    [Fact]
    public void Throttling_that_outlasts_four_retries_is_TtmThrottled()
    {
        var (fleet, elb, _, _) = DevRails();
        using var __ = fleet;
        elb.ReadTargetGroups(new[] { "web" });
        fleet.Ec2.ClearRequests();
        fleet.Ec2.Faults.ThrottleNext = 10;

        var error = Assert.Throws<TtmException>(() => elb.ReadTargetGroups(new[] { "web" }));

        Assert.Equal((TtmErrorCode.Throttled, "Throttling"), (error.Code, error.BackendCode));
        Assert.Contains("Wait a minute", error.Message);
        Assert.Equal(5, fleet.Ec2.Requests.Count); // the EC2 client's standard mode: 1 + 4 retries
    }

    [Fact]
    public void A_registration_whose_answer_was_lost_is_retried_and_registers_the_server_once()
    {
        var (fleet, elb, farmRole, server) = DevRails();
        using var _ = fleet;
        elb.ReadTargetGroups(new[] { "web" });
        fleet.Ec2.Faults.LoseResponses = 1; // carried out, answered 500
        fleet.Ec2.Faults.LoseAction = "RegisterTargets";

        elb.RegisterTargets(farmRole, "web", new[] { server });

        Assert.Equal(new[] { 500, 200 }, fleet.Ec2.Requests.Where(r => r.Action == "RegisterTargets").Select(r => r.Status));
        Assert.Equal(new[] { server.Id }, fleet.Ec2.Elbv2.StatesOf("web").Keys);
    }

    [Fact]
    public void A_wrong_secret_is_refused_by_the_endpoint_and_the_message_never_shows_the_secret()
    {
        using var fleet = new AwsFleet();
        fleet.Ec2.Elbv2.AddTargetGroup("web");
        const string wrong = "not-the-loopback-secret-9999";
        using var client = new AwsQueryClient(AwsQueryService.ElasticLoadBalancingV2, "us-east-1", fleet.Endpoint.Url,
            new BasicAWSCredentials(TestAwsEnvironment.AccessKey, wrong));
        using var calls = new Elbv2Calls(client);

        var error = Assert.Throws<TtmException>(() => calls.DescribeTargetGroups(new[] { "web" }, CancellationToken.None));

        Assert.Equal((TtmErrorCode.AccessDenied, "SignatureDoesNotMatch"), (error.Code, error.BackendCode));
        Assert.Equal(403, fleet.Ec2.Requests.Single().Status); // refused, not retried
        Assert.DoesNotContain(wrong, error.ToString());
    }

    [Fact]
    public void A_request_signed_for_another_region_is_refused()
    {
        using var fleet = new AwsFleet();
        fleet.Ec2.Elbv2.AddTargetGroup("web");
        using var calls = new Elbv2Calls(new AwsQueryClient(AwsQueryService.ElasticLoadBalancingV2, "eu-west-1", fleet.Endpoint.Url,
            new BasicAWSCredentials(TestAwsEnvironment.AccessKey, TestAwsEnvironment.SecretKey)));

        var error = Assert.Throws<TtmException>(() => calls.DescribeTargetGroups(new[] { "web" }, CancellationToken.None));

        Assert.Equal("SignatureDoesNotMatch", error.BackendCode);
    }

    [Fact]
    public void Ctrl_C_while_DescribeTargetHealth_stalls_returns_within_2s_as_a_cancellation()
    {
        var (fleet, elb, _, _) = DevRails();
        using var __ = fleet;
        elb.ReadTargetGroups(new[] { "web" });
        fleet.Endpoint.Stalls.Stall("DescribeTargetHealth");

        var (error, took, abandoned) = CtrlC.StopWhenHeld(fleet.Endpoint.Stalls, cancel => elb.ReadTargetGroups(new[] { "web" }, cancel));

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.True(took < TimeSpan.FromSeconds(2), $"took {took}");
        Assert.True(abandoned, "the client kept the request open");
    }

    [Fact]
    public void An_endpoint_that_refuses_connections_is_TtmConnectionFailed_after_the_retries()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now: connections are refused
        using var calls = new Elbv2Calls(new AwsQueryClient(AwsQueryService.ElasticLoadBalancingV2, "us-east-1", new Uri($"http://127.0.0.1:{port}/"),
            new BasicAWSCredentials(TestAwsEnvironment.AccessKey, TestAwsEnvironment.SecretKey), maxRetries: 1));
        var stopwatch = Stopwatch.StartNew();

        var error = Assert.Throws<TtmException>(() => calls.DescribeTargetGroups(new[] { "web" }, CancellationToken.None));

        Assert.Equal(TtmErrorCode.ConnectionFailed, error.Code);
        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public void A_denied_registration_is_TtmAccessDenied_naming_the_action_and_changes_nothing()
    {
        var (fleet, elb, farmRole, server) = DevRails();
        using var _ = fleet;
        fleet.Ec2.Elbv2.Faults.DeniedActions.Add("RegisterTargets");

        var error = Assert.Throws<TtmException>(() => elb.RegisterTargets(farmRole, "web", new[] { server }));

        Assert.Equal((TtmErrorCode.AccessDenied, "AccessDenied"), (error.Code, error.BackendCode));
        Assert.Contains("elasticloadbalancing:RegisterTargets", error.Message);
        Assert.Empty(fleet.Ec2.Elbv2.StatesOf("web"));
    }

    [Theory]
    [InlineData("initial", TargetHealth.Initial)]
    [InlineData("healthy", TargetHealth.Healthy)]
    [InlineData("unhealthy", TargetHealth.Unhealthy)]
    [InlineData("unused", TargetHealth.Unused)]
    [InlineData("draining", TargetHealth.Draining)]
    [InlineData("unhealthy.draining", TargetHealth.Draining)]
    [InlineData("unavailable", TargetHealth.Unavailable)]
    [InlineData("something-new", TargetHealth.Unavailable)]
    public void ELBv2_states_map_to_target_health(string state, TargetHealth expected) =>
        Assert.Equal(expected, AwsLoadBalancing.HealthOf(state));

    [Fact]
    public void The_seed_with_target_groups_tags_Dev_and_Production_web_roles_and_their_servers_are_healthy()
    {
        using var fleet = new AwsFleet(seed: false);
        RunbookSeed.Apply(fleet.Ec2, new TargetGroupSeed(Delay, Interval, Threshold));
        var elb = fleet.Backend.Capability<ILoadBalancing>()!;

        var balanced = fleet.Backend.GetFarmRoles(null).Where(r => r.IsLoadBalanced).ToList();

        Assert.Equal(new[] { "Dev/NodeAppServer", "Dev/RailsAppServer", "Production/NodeAppServer", "Production/RailsAppServer" },
            balanced.Select(r => r.ToString()).OrderBy(n => n, StringComparer.Ordinal));
        var rails = elb.ReadTargetGroups(new[] { "production-railsappserver" }).Single();
        Assert.Equal(2, rails.Targets.Count);
        Assert.All(rails.Targets.Values, h => Assert.Equal(TargetHealth.Healthy, h));
    }

    [Fact]
    public void Preflight_of_a_launch_into_a_load_balanced_farm_role_lists_the_ELBv2_reads_it_lacks_and_registers_nothing()
    {
        var (fleet, _, _, _) = DevRails();
        using var __ = fleet;
        fleet.Ec2.SetTag(fleet.Ec2.LaunchTemplateNamed("farm/Dev/RailsAppServer")!.Id, "ttm:target-groups", "web");
        var farmRole = fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "RailsAppServer");
        fleet.Ec2.Elbv2.Faults.DeniedActions.Add("DescribeTargetHealth");

        var missing = fleet.Backend.MissingPermissions(new PermissionCheckRequest { ToLaunchInto = new[] { farmRole } });
        var plain = fleet.Backend.MissingPermissions(new PermissionCheckRequest { ToLaunchInto = new[] { fleet.Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Sidekiq") } });

        Assert.Equal("elasticloadbalancing:DescribeTargetHealth", Assert.Single(missing).Permission);
        Assert.Empty(plain);
        Assert.DoesNotContain(fleet.Ec2.Requests, r => r.Service == "elasticloadbalancing" && r.IsMutating);
    }

    /// <summary>docs/aws.md's ELBv2 policy names exactly the actions the typed calls send.</summary>
    [Fact]
    public void The_documented_IAM_policy_names_every_ELBv2_action_called()
    {
        var documented = DocumentedPolicy.Actions("elasticloadbalancing");
        var sent = DocumentedPolicy.RepoFile("src", "Rebundle.Aws", "Elb", "Elbv2Calls.cs");

        Assert.Equal(Elbv2Calls.Actions.OrderBy(a => a), documented.OrderBy(a => a));
        Assert.All(Elbv2Calls.Actions, a => Assert.Contains("_client.Call(" + a.Substring("elasticloadbalancing:".Length) + "Action", sent.Replace("_client.All(", "_client.Call(")));
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Amazon.EC2;
using Amazon.EC2.Model;
using Rebundle.Ec2Endpoint;
using Rebundle.Errors;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>
/// Farm leases as a ttm:lease tag on the farm's launch templates, seen by every machine: each
/// "machine" is its own AwsBackend (its own holder token, user and host) on one endpoint and clock.
/// </summary>
public class LeaseTests
{
    private const string Lease = "ttm:lease";

    // The renewal timer looks every 20 ms in tests that want it, and practically never otherwise.
    private static AwsConnectionOptions Alice(bool renewing = false, int? maxRetries = null) => new()
    {
        LeaseUser = "alice",
        LeaseHost = "laptop-a",
        LeaseRenewalCheck = renewing ? TimeSpan.FromMilliseconds(20) : TimeSpan.FromHours(1),
        MaxRetries = maxRetries,
    };

    private static AwsConnectionOptions Quiet() => new() { LeaseRenewalCheck = TimeSpan.FromHours(1) };

    private static List<Ec2LaunchTemplate> TemplatesOf(AwsFleet fleet, string farm) =>
        fleet.Ec2.LaunchTemplates.Where(t => t.Tags["ttm:farm"] == farm).ToList();

    private static string? ExpiryOf(string? lease) => lease?.Split(';')[4];

    private static string At(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void WaitUntil(Func<bool> condition, string what, Func<string>? detail = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("Timed out waiting until " + what + detail?.Invoke());
            Thread.Sleep(10);
        }
    }

    [Fact]
    public void A_farm_leased_on_one_machine_is_refused_on_another_naming_the_holder_until_it_is_given_back()
    {
        using var fleet = new AwsFleet(options: Alice());
        var start = fleet.Clock.UtcNow;
        var bob = fleet.AnotherMachine("bob", "build-7", Quiet());
        var lease = fleet.Backend.AcquireFarms(new[] { "Dev" }, "Invoke-TtmRecycle Dev", breakExpired: false);

        var error = Assert.Throws<TtmException>(() => bob.AcquireFarms(new[] { "Production", "Dev" }, "Invoke-TtmRebundle", breakExpired: false));

        Assert.Equal(TtmErrorCode.FarmBusy, error.Code);
        Assert.Equal("Dev", error.Target);
        foreach (var part in new[] { "alice on laptop-a", $"process {Environment.ProcessId}", "Invoke-TtmRecycle Dev", $"since {start:u}", $"until {start.AddMinutes(10):u}", "ttm:lease", "farm/Dev/" })
            Assert.Contains(part, error.Message);
        // All or none: bob tagged nothing, Production included.
        Assert.All(TemplatesOf(fleet, "Production"), t => Assert.Null(t.Tags[Lease]));
        Assert.All(TemplatesOf(fleet, "Dev"), t => Assert.Contains(";alice@laptop-a;", t.Tags[Lease]));

        lease.Dispose();
        Assert.All(TemplatesOf(fleet, "Dev"), t => Assert.Null(t.Tags[Lease]));
        using var bobs = bob.AcquireFarms(new[] { "Production", "Dev" }, "Invoke-TtmRebundle", breakExpired: false);
        Assert.All(TemplatesOf(fleet, "Dev").Concat(TemplatesOf(fleet, "Production")), t => Assert.Contains(";bob@build-7;", t.Tags[Lease]));
    }

    [Fact]
    public void Taking_leases_on_two_farms_reads_once_tags_once_and_reads_back_once_whatever_the_number_of_templates()
    {
        using var fleet = new AwsFleet(options: Alice());

        var lease = fleet.Backend.AcquireFarms(new[] { "Dev", "Production", "NoSuchFarm" }, "Invoke-TtmRebundle", breakExpired: false);

        Assert.Equal(2, fleet.Calls("DescribeLaunchTemplates")); // the check, and the read-back after the write
        var tagging = Assert.Single(fleet.Ec2.Requests, r => r.Action == "CreateTags");
        Assert.Equal(12, tagging.Parameters.Keys.Count(k => k.StartsWith("ResourceId.", StringComparison.Ordinal)));
        var tagged = TemplatesOf(fleet, "Dev").Concat(TemplatesOf(fleet, "Production")).Select(t => t.Tags[Lease]).Distinct().ToList();
        Assert.NotNull(Assert.Single(tagged));
        Assert.All(TemplatesOf(fleet, "Rebundle-Staging").Concat(fleet.Ec2.LaunchTemplates.Where(t => t.Name.StartsWith("role/", StringComparison.Ordinal))),
            t => Assert.Null(t.Tags[Lease]));

        fleet.Ec2.ClearRequests();
        lease.Dispose();
        Assert.Equal(1, fleet.Calls("DeleteTags"));
        Assert.All(fleet.Ec2.LaunchTemplates, t => Assert.Null(t.Tags[Lease]));
    }

    [Fact]
    public void A_lapsed_lease_is_refused_without_force_and_taken_over_with_it_and_the_old_holder_then_leaves_the_new_tag_alone()
    {
        using var fleet = new AwsFleet(options: Alice());
        var bob = fleet.AnotherMachine("bob", "build-7", Quiet());
        var alices = fleet.Backend.AcquireFarms(new[] { "Dev" }, "Invoke-TtmRecycle Dev", breakExpired: false);
        fleet.Clock.Advance(TimeSpan.FromMinutes(11)); // alice's run hung: nothing renewed her lease

        var error = Assert.Throws<TtmException>(() => bob.AcquireFarms(new[] { "Dev" }, "Invoke-TtmRecycle Dev", breakExpired: false));
        Assert.Equal(TtmErrorCode.FarmBusy, error.Code);
        Assert.Contains("stopped renewing", error.Message);
        Assert.Contains("alice on laptop-a", error.Message);
        Assert.Contains("-Force", error.Message);

        using var bobs = bob.AcquireFarms(new[] { "Dev" }, "Invoke-TtmRecycle Dev", breakExpired: true);
        Assert.All(TemplatesOf(fleet, "Dev"), t => Assert.Contains(";bob@build-7;", t.Tags[Lease]));

        alices.Dispose(); // alice's run ends at last: it deletes only its own value
        Assert.All(TemplatesOf(fleet, "Dev"), t => Assert.Contains(";bob@build-7;", t.Tags[Lease]));
    }

    [Fact]
    public void A_held_lease_is_renewed_before_it_expires_so_it_never_lapses_while_its_run_goes_on()
    {
        using var fleet = new AwsFleet(options: Alice(renewing: true));
        var start = fleet.Clock.UtcNow;
        var bob = fleet.AnotherMachine("bob", "build-7", Quiet());
        using var lease = fleet.Backend.AcquireFarms(new[] { "Dev" }, "Invoke-TtmRecycle Dev", breakExpired: false);
        var devTemplate = TemplatesOf(fleet, "Dev")[0];
        Assert.Equal(At(start.AddMinutes(10)), ExpiryOf(devTemplate.Tags[Lease]));

        fleet.Clock.Advance(TimeSpan.FromMinutes(4));
        WaitUntil(() => ExpiryOf(devTemplate.Tags[Lease]) != At(start.AddMinutes(10)), "the lease is renewed");

        Assert.True(DateTimeOffset.Parse(ExpiryOf(devTemplate.Tags[Lease])!, CultureInfo.InvariantCulture) >= start.AddMinutes(14));
        Assert.Single(TemplatesOf(fleet, "Dev").Select(t => t.Tags[Lease]).Distinct()); // one call renewed every template
        fleet.Clock.Advance(TimeSpan.FromMinutes(8)); // past the first expiry
        var error = Assert.Throws<TtmException>(() => bob.AcquireFarms(new[] { "Dev" }, "Invoke-TtmRecycle Dev", breakExpired: true));
        Assert.Contains("is leased by another run", error.Message); // live: even -Force does not break it
    }

    [Fact]
    public void A_renewal_that_fails_does_not_bring_the_process_down_and_is_tried_again()
    {
        using var fleet = new AwsFleet(options: Alice(renewing: true, maxRetries: 0));
        var start = fleet.Clock.UtcNow;
        using var lease = fleet.Backend.AcquireFarms(new[] { "Dev" }, "Invoke-TtmRecycle Dev", breakExpired: false);
        lock (fleet.Ec2.Faults)
        {
            fleet.Ec2.Faults.ThrottleAction = "CreateTags";
            fleet.Ec2.Faults.ThrottleNext = 3;
        }

        fleet.Clock.Advance(TimeSpan.FromMinutes(4));

        var devTemplate = TemplatesOf(fleet, "Dev")[0];
        WaitUntil(() => ExpiryOf(devTemplate.Tags[Lease]) != At(start.AddMinutes(10)), "a renewal gets through after the throttled ones",
            () => ": " + string.Join(", ", fleet.Ec2.Requests.Select(r => r.Action + ":" + r.ErrorCode)));
        Assert.Equal(3, fleet.Ec2.Requests.Count(r => r.Action == "CreateTags" && r.ErrorCode == "RequestLimitExceeded"));
    }

    [Fact]
    public void A_lease_taken_over_after_it_lapsed_is_not_renewed_over_the_new_holders_tag()
    {
        using var fleet = new AwsFleet(options: Alice(renewing: true));
        using var lease = fleet.Backend.AcquireFarms(new[] { "Dev" }, "Invoke-TtmRecycle Dev", breakExpired: false);
        var now = fleet.Clock.UtcNow;
        var carols = $"c0ffee000001;carol@laptop-c;77;{At(now)};{At(now.AddMinutes(10))};Invoke-TtmRecycle Dev";
        foreach (var template in TemplatesOf(fleet, "Dev")) fleet.Ec2.SetTag(template.Id, Lease, carols);
        fleet.Ec2.ClearRequests();

        fleet.Clock.Advance(TimeSpan.FromMinutes(4));
        WaitUntil(() => fleet.Calls("DescribeLaunchTemplates") > 0, "the renewal looks at the tags");
        Thread.Sleep(200); // a few more looks of the 20 ms timer

        Assert.Equal(0, fleet.Calls("CreateTags"));
        Assert.All(TemplatesOf(fleet, "Dev"), t => Assert.Equal(carols, t.Tags[Lease]));
    }

    [Fact]
    public void A_lease_tag_typed_by_hand_is_refused_and_taken_over_with_force()
    {
        using var fleet = new AwsFleet(options: Alice());
        var template = TemplatesOf(fleet, "Dev")[0];
        fleet.Ec2.SetTag(template.Id, Lease, "mine, do not touch");

        var error = Assert.Throws<TtmException>(() => fleet.Backend.AcquireFarms(new[] { "Dev" }, "Invoke-TtmRecycle Dev", breakExpired: false));
        Assert.Equal(TtmErrorCode.FarmBusy, error.Code);
        Assert.Contains("cannot read", error.Message);
        Assert.Contains("mine, do not touch", error.Message);

        using var lease = fleet.Backend.AcquireFarms(new[] { "Dev" }, "Invoke-TtmRecycle Dev", breakExpired: true);
        Assert.Contains(";alice@laptop-a;", template.Tags[Lease]);
    }

    [Fact]
    public void Disconnecting_gives_back_the_leases_still_held()
    {
        using var fleet = new AwsFleet(options: Alice());
        var bob = fleet.AnotherMachine("bob", "build-7", Quiet());
        bob.AcquireFarms(new[] { "Dev" }, "Invoke-TtmRecycle Dev", breakExpired: false); // never disposed: the session ends instead

        bob.Dispose();

        Assert.All(TemplatesOf(fleet, "Dev"), t => Assert.Null(t.Tags[Lease]));
        using var lease = fleet.Backend.AcquireFarms(new[] { "Dev" }, "Invoke-TtmRecycle Dev", breakExpired: false);
    }

    [Fact]
    public void A_writer_racing_between_our_write_and_the_read_back_makes_us_back_off_and_keeps_its_tag()
    {
        using var fleet = new AwsFleet(options: Alice());
        var raced = TemplatesOf(fleet, "Dev")[2];
        var now = fleet.Clock.UtcNow;
        var carols = $"c0ffee000001;carol@laptop-c;77;{At(now)};{At(now.AddMinutes(10))};Invoke-TtmRebundle -Role Sidekiq";
        fleet.Ec2.AfterNext("CreateTags", () => fleet.Ec2.SetTag(raced.Id, Lease, carols));

        var error = Assert.Throws<TtmException>(() => fleet.Backend.AcquireFarms(new[] { "Dev" }, "Invoke-TtmRecycle Dev", breakExpired: false));

        Assert.Equal(TtmErrorCode.FarmBusy, error.Code);
        Assert.Contains("at the same moment", error.Message);
        Assert.Contains("carol on laptop-c", error.Message);
        Assert.Equal(carols, raced.Tags[Lease]);
        Assert.All(TemplatesOf(fleet, "Dev").Where(t => t.Id != raced.Id), t => Assert.Null(t.Tags[Lease]));
        var untag = Assert.Single(fleet.Ec2.Requests, r => r.Action == "DeleteTags");
        Assert.Equal(Lease, untag.Parameters["Tag.1.Key"]);
        Assert.Contains(";alice@laptop-a;", untag.Parameters["Tag.1.Value"]);
    }

    [Fact]
    public void A_farm_leased_again_by_the_same_run_stays_leased_until_the_outer_lease_is_given_back()
    {
        using var fleet = new AwsFleet(options: Alice());
        var bob = fleet.AnotherMachine("bob", "build-7", Quiet());
        var rebundle = fleet.Backend.AcquireFarms(new[] { "Dev" }, "Invoke-TtmRebundle", breakExpired: false);
        var recycle = fleet.Backend.AcquireFarms(new[] { "Dev", "Production" }, "Invoke-TtmRecycle", breakExpired: false);

        recycle.Dispose();

        Assert.Throws<TtmException>(() => bob.AcquireFarms(new[] { "Dev" }, "Invoke-TtmRecycle Dev", breakExpired: false));
        using (bob.AcquireFarms(new[] { "Production" }, "Invoke-TtmRecycle Production", breakExpired: false)) { }
        rebundle.Dispose();
        using var bobs = bob.AcquireFarms(new[] { "Dev" }, "Invoke-TtmRecycle Dev", breakExpired: false);
    }

    [Fact]
    public void A_long_purpose_is_cut_to_fit_the_256_characters_of_a_tag_value()
    {
        using var fleet = new AwsFleet(options: Alice());
        var purpose = "Invoke-TtmRebundle " + new string('x', 400);

        using var lease = fleet.Backend.AcquireFarms(new[] { "Dev" }, purpose, breakExpired: false);

        var value = TemplatesOf(fleet, "Dev")[0].Tags[Lease]!;
        Assert.Equal(256, value.Length);
        Assert.Contains(";Invoke-TtmRebundle xxx", value);
    }

    [Fact]
    public void The_endpoint_deletes_a_tag_given_with_a_value_only_when_the_value_matches_and_given_without_one_whatever_it_is()
    {
        using var fleet = new AwsFleet();
        var template = TemplatesOf(fleet, "Dev")[0];
        using var ec2 = new AmazonEC2Client(new AmazonEC2Config { ServiceURL = fleet.Endpoint.Url.ToString(), AuthenticationRegion = "us-east-1" });
        void Delete(string? value) => ec2.DeleteTagsAsync(new DeleteTagsRequest
        {
            Resources = new List<string> { template.Id },
            Tags = new List<Tag> { new() { Key = "ttm:alias", Value = value } },
        }).GetAwaiter().GetResult();

        Delete("SomeoneElse");
        Assert.NotNull(template.Tags["ttm:alias"]);
        Delete(template.Tags["ttm:alias"]);
        Assert.Null(template.Tags["ttm:alias"]);
        fleet.Ec2.SetTag(template.Id, "ttm:alias", "Again");
        Delete(null);
        Assert.Null(template.Tags["ttm:alias"]);
    }
}

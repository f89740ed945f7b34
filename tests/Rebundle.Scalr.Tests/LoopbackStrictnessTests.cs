using System;
using System.Linq;
using Rebundle.Errors;

namespace Rebundle.Scalr.Tests;

/// <summary>
/// The loopback Scalr refuses what Scalr refuses (tests/reference/scalr/README.md), with Scalr's
/// status and error code, so a client that would break on a real Scalr breaks here too.
/// </summary>
public class LoopbackStrictnessTests
{
    private static TtmException Refused(Action call) => Assert.Throws<TtmException>(call);

    [Fact]
    public void A_role_without_category_os_or_automation_is_refused()
    {
        using var scalr = new LoopbackScalr();
        using var client = scalr.Client();
        Assert.Equal("InvalidStructure", Refused(() => client.Post("roles/", new { name = "Web-1-7", os = new { id = "ubuntu-14-04" } })).BackendCode);
        Assert.Equal("InvalidStructure", Refused(() => client.Post("roles/", new { name = "Web-1-7", category = new { id = 1 } })).BackendCode);
        // useScalrAgent defaults to true: then builtinAutomation is required.
        var noAutomation = Refused(() => client.Post("roles/", new { name = "Web-1-7", category = new { id = 1 }, os = new { id = "ubuntu-14-04" } }));
        Assert.Contains("builtinAutomation", noAutomation.Message);
        Assert.Equal("InvalidValue", Refused(() => client.Post("roles/", new { name = "Web 1.7", category = new { id = 1 }, os = new { id = "ubuntu-14-04" }, builtinAutomation = new[] { "chef" } })).BackendCode);
        client.Post("roles/", new { name = "Web-1-7", category = new { id = 1 }, os = new { id = "ubuntu-14-04" }, builtinAutomation = new[] { "chef" } });
        Assert.Equal(0, scalr.Server.RequestLog.Count(r => r.Status == 201) - 1);
    }

    [Fact]
    public void An_image_registration_needs_architecture_and_os()
    {
        using var scalr = new LoopbackScalr();
        using var client = scalr.Client();
        var e = Refused(() => client.Post("images/", new { name = "x", cloudPlatform = "ec2", cloudImageId = "ami-0feedfacecafe0009", os = new { id = "ubuntu-14-04" } }));
        Assert.Equal(400, int.Parse(e.Message.Split(' ').First(w => w.Length == 3 && char.IsDigit(w[0]))));
        Assert.Contains("architecture", e.Message);
        Refused(() => client.Post("images/", new { name = "x", cloudPlatform = "ec2", cloudImageId = "ami-0feedfacecafe0009", architecture = "x86_64" }));
        client.Post("images/", new { name = "x", cloudPlatform = "ec2", cloudImageId = "ami-0feedfacecafe0009", architecture = "x86_64", os = new { id = "ubuntu-14-04" } });
    }

    [Fact]
    public void Replace_keeps_the_cloud_location_and_a_taken_location_is_a_400()
    {
        using var scalr = new LoopbackScalr();
        using var client = scalr.Client();
        var role = scalr.Server.World.Roles.First(r => r.Name == "Reports");
        var old = role.ImageIds.Single();
        var elsewhere = client.Post("images/", new { name = "x", cloudPlatform = "ec2", cloudLocation = "eu-west-1", cloudImageId = "ami-0feedfacecafe0010", architecture = "x86_64", os = new { id = "ubuntu-14-04" } });
        var body = new { role = new { id = role.Id }, image = new { id = elsewhere.GetProperty("id").GetString() } };
        var e = Refused(() => client.Post($"roles/{role.Id}/images/{old}/actions/replace/", body));
        Assert.Contains("same cloud location", e.Message);
        var sameLocation = scalr.Server.World.Roles.First(r => r.Name == "Sidekiq").ImageIds.Single();
        var taken = Refused(() => client.Post($"roles/{role.Id}/images/", new { role = new { id = role.Id }, image = new { id = sameLocation } }));
        Assert.Contains(" 400 InvalidValue", taken.Message);
    }

    [Fact]
    public void A_second_terminate_is_409_unacceptable_state()
    {
        using var scalr = new LoopbackScalr();
        using var client = scalr.Client();
        var server = scalr.Server.World.Servers.First();
        client.Post($"servers/{server.Id}/actions/terminate/", new { force = false });
        var e = Refused(() => client.Post($"servers/{server.Id}/actions/terminate/", new { force = false }));
        Assert.Equal("UnacceptableState", e.BackendCode);
        Assert.Contains(" 409 ", e.Message);
    }

    [Fact]
    public void More_than_100_results_a_page_is_a_400_not_clamped()
    {
        using var scalr = new LoopbackScalr();
        using var client = scalr.Client();
        Assert.Equal(3, client.List("farms/", new[] { new System.Collections.Generic.KeyValuePair<string, string>("maxResults", "100") }).Count);
        var e = Refused(() => client.List("farms/", new[] { new System.Collections.Generic.KeyValuePair<string, string>("maxResults", "101") }));
        Assert.Equal("InvalidValue", e.BackendCode);
    }

    [Fact]
    public void Another_environment_is_403_object_not_found()
    {
        using var scalr = new LoopbackScalr();
        using var client = new ScalrClient(scalr.Options(envId: "6"), scalr.Clock);
        var e = Refused(() => client.List("farms/"));
        Assert.Equal("ObjectNotFound", e.BackendCode);
        Assert.Equal(403, scalr.Server.RequestLog.Single().Status);
    }

    [Fact]
    public void A_failed_launch_ends_terminated_never_failed()
    {
        using var scalr = new LoopbackScalr();
        using var client = scalr.Client();
        var farmRole = scalr.Server.World.FarmRoles.First();
        lock (scalr.Server.World.Gate) scalr.Server.World.FailingLaunches = 1;
        var id = client.Post($"farm-roles/{farmRole.Id}/servers/", null).GetProperty("id").GetString();
        scalr.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal("terminated", client.Get($"servers/{id}/").GetProperty("status").GetString());
    }

    [Fact]
    public void The_rate_limit_answers_403_limit_exceeded_within_its_window()
    {
        using var scalr = new LoopbackScalr();
        var options = scalr.Options();
        options.ThrottleBudget = TimeSpan.Zero; // the client would wait it out otherwise
        using var client = new ScalrClient(options, scalr.Clock);
        scalr.Server.LimitRequests(2, TimeSpan.FromSeconds(10));
        client.Get("farms/" + scalr.Server.World.Farms[0].Id + "/");
        client.Get("farms/" + scalr.Server.World.Farms[0].Id + "/");
        Assert.Equal("LimitExceeded", Refused(() => client.Get("farms/" + scalr.Server.World.Farms[0].Id + "/")).BackendCode);
        scalr.Clock.Advance(TimeSpan.FromSeconds(10));
        client.Get("farms/" + scalr.Server.World.Farms[0].Id + "/");
        Assert.Equal(new[] { 200, 200, 403, 200 }, scalr.Server.RequestLog.Select(r => r.Status));
    }

    [Fact]
    public void A_lost_answer_means_the_server_acted_but_said_nothing()
    {
        using var scalr = new LoopbackScalr();
        var options = scalr.Options();
        options.MaxRetries = 0;
        using var client = new ScalrClient(options, scalr.Clock);
        var farmRole = scalr.Server.World.FarmRoles.First();
        var before = scalr.Server.World.Servers.Count;
        scalr.Server.LoseAnswers(1, (method, _) => method == "POST");
        Assert.ThrowsAny<TtmException>(() => client.Post($"farm-roles/{farmRole.Id}/servers/", null));
        Assert.Equal(before + 1, scalr.Server.World.Servers.Count);
        Assert.Equal("AnswerLost", scalr.Server.RequestLog.Single().ErrorCode);
    }
}

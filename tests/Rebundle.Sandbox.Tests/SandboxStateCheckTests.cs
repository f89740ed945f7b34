using Rebundle.Backends;
using System.Text.Json.Nodes;
using Rebundle.Errors;
using Rebundle.Sandbox;
using Xunit;

namespace Rebundle.Sandbox.Tests;

/// <summary>A Sandbox file that parses but says something impossible (issue 10, case 12).</summary>
public class SandboxStateCheckTests : IDisposable
{
    private readonly TestFleet _t = new();

    public void Dispose() => _t.Dispose();

    // Edits the seeded file the way a hand edit or a bad merge would.
    private string Break(Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(_t.StatePath))!.AsObject();
        edit(json);
        var text = json.ToJsonString();
        File.WriteAllText(_t.StatePath, text);
        return text;
    }

    public static TheoryData<string, string> BrokenFields => new()
    {
        { "servers-null", "servers" },
        { "farms-null", "farms" },
        { "simulation-null", "simulation" },
        { "server-entry-null", "servers[0]" },
        { "farm-role-without-farm", "farmRoles[0].farmId" },
        { "farm-role-without-role", "farmRoles[0].role" },
        { "negative-count", "farmRoles[0].count" },
        { "server-without-farm-role", "servers[0].farmRoleId" },
        { "terminated-at-the-end-of-time", "servers[0].terminatedAt" },
    };

    [Theory]
    [MemberData(nameof(BrokenFields))]
    public void A_semantically_broken_file_is_StateFileCorrupt_naming_the_field_and_the_file(string breakage, string field)
    {
        var text = Break(json =>
        {
            switch (breakage)
            {
                case "servers-null": json["servers"] = null; break;
                case "farms-null": json["farms"] = null; break;
                case "simulation-null": json["simulation"] = null; break;
                case "server-entry-null": json["servers"]![0] = null; break;
                case "farm-role-without-farm": json["farmRoles"]![0]!["farmId"] = "farm-404"; break;
                case "farm-role-without-role": json["farmRoles"]![0]!["role"] = "Nobody-9-9"; break;
                case "negative-count": json["farmRoles"]![0]!["count"] = -2; break;
                case "server-without-farm-role": json["servers"]![0]!["farmRoleId"] = "fr-404"; break;
                case "terminated-at-the-end-of-time": json["servers"]![0]!["terminatedAt"] = "9999-12-31T00:00:00+00:00"; break;
            }
        });

        // Connecting reads the file, so this is the first thing an operator would see.
        var error = Assert.Throws<TtmException>(() => _t.Reopen());

        Assert.Equal(TtmErrorCode.StateFileCorrupt, error.Code);
        Assert.Contains(field + " ", error.Message);
        Assert.Contains(_t.StatePath, error.Message);
        Assert.Contains("move the file aside", error.Message);
        Assert.Equal(text, File.ReadAllText(_t.StatePath)); // reported, never rewritten
    }

    [Fact]
    public void A_huge_stored_delay_is_clamped_so_the_Sandbox_still_opens_and_can_be_fixed()
    {
        Break(json => json["simulation"]!["respawnSeconds"] = TimeSpan.MaxValue.TotalSeconds);

        using var backend = _t.Reopen();
        var server = _t.Server("Dev", "Sidekiq");
        backend.TerminateServer(server); // a respawn is computed from the delay: this overflowed before
        backend.Simulate(options => Assert.Equal(TimeSpan.FromDays(1), options.RespawnDelay));

        backend.Simulate(options => options.RespawnDelay = TimeSpan.FromSeconds(2));
        _t.Clock.Advance(TimeSpan.FromSeconds(3));
        var respawned = Assert.Single(_t.Servers("Dev", "Sidekiq"));
        Assert.NotEqual(server.Id, respawned.Id);
    }
}

using Rebundle.Backends;
using Rebundle.Domain;
using Xunit;

namespace Rebundle.Sandbox.Tests;

public class SandboxSeedTests : IDisposable
{
    private readonly TestFleet _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public void Seeds_the_runbook_farms()
    {
        Assert.Equal(new[] { "Dev", "Production", "Rebundle-Staging" }, _t.Fleet.GetFarms(null).Items.Select(f => f.Name));
    }

    [Fact]
    public void Staging_runs_TTM_Base_under_one_alias_per_role()
    {
        var staging = _t.Fleet.GetFarmRoles(new[] { "Rebundle-Staging" }, null).Items;
        Assert.Equal(new[] { "DevDebug", "NodeAppServer", "RailsAppServer", "Sidekiq", "SystemWatcher", "TTM-Base" }, staging.Select(r => r.Alias));
        Assert.All(staging, r => Assert.Equal("TTM-Base", r.Role));
        Assert.Equal("SidekiqServer", staging.Single(r => r.Alias == "Sidekiq").ChefRole);
    }

    [Theory]
    [InlineData("Dev", 1)]
    [InlineData("Production", 2)]
    public void Dev_and_Production_run_the_production_roles(string farm, int railsServers)
    {
        var roles = _t.Fleet.GetFarmRoles(new[] { farm }, null).Items;
        Assert.Equal(new[] { "DevDebug", "NodeAppServer", "RailsAppServer", "Reports", "Sidekiq", "SystemWatcher" }, roles.Select(r => r.Alias));
        Assert.All(roles, r => Assert.Equal(r.Alias, r.Role));
        var servers = _t.Servers(farm);
        Assert.Equal(railsServers, servers.Count(s => s.Alias == "RailsAppServer"));
        Assert.Equal(5 + railsServers, servers.Count);
        Assert.All(servers, s => Assert.Equal(ServerStatus.Running, s.Status));
        Assert.Contains(servers, s => s.Name == "RailsAppServer.1");
    }

    [Fact]
    public void Every_production_role_has_a_1_6_version_with_the_same_image()
    {
        var catalog = _t.Fleet.Roles();
        foreach (var name in new[] { "RailsAppServer", "NodeAppServer", "Sidekiq", "Reports", "DataLoad", "DevDebug", "SystemWatcher" })
        {
            var production = catalog.Require(name);
            var versioned = catalog.Require(name + "-1-6");
            Assert.Equal(production.ImageId, versioned.ImageId);
            Assert.Equal("1-6", catalog.LatestOf(name)!.Version!.ToString());
        }
        Assert.NotNull(catalog.Find("TTM-Base"));
        var images = _t.Backend.GetImages(catalog.All.Select(r => r.ImageId).ToList());
        Assert.All(images, i => Assert.Equal(ImageStatus.Available, i.Status));
    }

    [Fact]
    public void State_survives_reopening()
    {
        var server = _t.Server("Dev", "Sidekiq");
        _t.Backend.TerminateServer(server);
        using var again = _t.Reopen();
        var all = again.GetServers(new ServerQuery { Ids = new[] { server.Id }, IncludeTerminated = true });
        Assert.Equal(ServerStatus.Terminated, all.Single().Status);
    }

    [Fact]
    public void A_corrupt_state_file_is_reported_not_overwritten()
    {
        File.WriteAllText(_t.StatePath, "{ this is not json");
        var error = Assert.Throws<Errors.TtmException>(() => _t.Reopen());
        Assert.Equal(Errors.TtmErrorCode.StateFileCorrupt, error.Code);
        Assert.Equal("{ this is not json", File.ReadAllText(_t.StatePath));
    }
}

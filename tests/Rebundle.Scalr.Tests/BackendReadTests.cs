using System;
using System.Linq;
using Rebundle.Backends;
using Rebundle.Domain;

namespace Rebundle.Scalr.Tests;

public class BackendReadTests
{
    [Fact]
    public void Farms_are_the_runbooks_three_with_their_farm_role_counts()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var farms = backend.GetFarms().OrderBy(f => f.Name).ToList();
        Assert.Equal(new[] { "Dev", "Production", "Rebundle-Staging" }, farms.Select(f => f.Name));
        Assert.All(farms, f => Assert.Equal(6, f.FarmRoleCount));
        Assert.All(farms, f => Assert.True(int.TryParse(f.Id, out _)));
    }

    [Fact]
    public void Staging_farm_roles_run_the_base_role_under_the_role_aliases()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var staging = backend.GetFarmRoles(new[] { "rebundle-staging" });
        Assert.Equal(new[] { "DevDebug", "NodeAppServer", "RailsAppServer", "Sidekiq", "SystemWatcher", "TTM-Base" }, staging.Select(r => r.Alias).OrderBy(a => a));
        Assert.All(staging, r => Assert.Equal("TTM-Base", r.Role));
        Assert.All(staging, r => Assert.Equal("Rebundle-Staging", r.Farm));
        var production = backend.GetFarmRoles(new[] { "Production" });
        Assert.Equal(2, production.Single(r => r.Alias == "RailsAppServer").DesiredCount);
        Assert.Equal("Sidekiq", production.Single(r => r.Alias == "Sidekiq").Role);
    }

    [Fact]
    public void Roles_carry_their_ami_and_parse_versions()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var roles = backend.GetRoles();
        Assert.Equal(15, roles.Count);
        var rails = roles.Single(r => r.Name == "RailsAppServer");
        var rails16 = roles.Single(r => r.Name == "RailsAppServer-1-6");
        Assert.False(rails.IsVersioned);
        Assert.Equal("RailsAppServer", rails16.BaseName);
        Assert.Equal(new RoleVersion(1, 6), rails16.Version);
        Assert.StartsWith("ami-", rails.ImageId);
        Assert.Equal(rails.ImageId, rails16.ImageId);
        Assert.NotEqual(rails.ImageId, roles.Single(r => r.Name == "Sidekiq").ImageId);
    }

    [Fact]
    public void Servers_have_friendly_names_from_alias_and_index()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var rails = backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, Aliases = new[] { "RailsAppServer" } });
        Assert.Equal(new[] { "RailsAppServer.1", "RailsAppServer.2" }, rails.Select(s => s.Name).OrderBy(n => n));
        Assert.All(rails, s =>
        {
            Assert.Equal(ServerStatus.Running, s.Status);
            Assert.Equal("Production", s.Farm);
            Assert.Equal("RailsAppServer", s.Role);
            Assert.Equal("us-east-1", s.Region);
            Assert.Equal("127.0.0.1", s.Address);
            Assert.Equal("", s.ImageId); // Scalr does not say; without AWS settings EC2 is not asked
        });
    }

    [Fact]
    public void A_wide_server_read_is_one_paged_list_not_a_call_per_farm_role()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        scalr.Server.ClearLog();
        var all = backend.GetServers(ServerQuery.All);
        // Staging 6, Dev 6, Production 7.
        Assert.Equal(19, all.Count);
        Assert.Equal(7, scalr.Count("GET", "servers/")); // 19 servers, 3 to a page
        Assert.DoesNotContain(scalr.Server.RequestLog, r => r.Path.EndsWith("/servers/") && r.Path.Contains("/farm-roles/"));
    }

    [Fact]
    public void A_narrow_server_read_uses_the_farm_roles_own_list()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        scalr.Server.ClearLog();
        var servers = backend.GetServers(new ServerQuery { Farms = new[] { "Dev" }, Aliases = new[] { "Sidekiq" } });
        Assert.Equal("Sidekiq.1", Assert.Single(servers).Name);
        Assert.Equal(0, scalr.Count("GET", "servers/"));
        Assert.Single(scalr.Server.RequestLog, r => r.Path.EndsWith("/servers/"));
    }

    [Fact]
    public void Registered_images_read_as_available_and_unknown_ones_are_left_out()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        var ami = backend.GetRoles().Single(r => r.Name == "Reports").ImageId;
        var images = backend.GetImages(new[] { ami, "ami-00000000000000000" });
        var image = Assert.Single(images);
        Assert.Equal(ami, image.Id);
        Assert.Equal(ImageStatus.Available, image.Status);
    }
}

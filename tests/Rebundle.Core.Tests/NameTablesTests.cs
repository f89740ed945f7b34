using Rebundle.Errors;
using Rebundle.Naming;
using Xunit;

namespace Rebundle.Tests;

public class NameTablesTests
{
    [Fact]
    public void Defaults_follow_the_runbook()
    {
        var names = NameTables.Default;
        Assert.Equal("RailsAppServer", names.RoleForProcfileLine("web"));
        Assert.Equal("Sidekiq", names.RoleForProcfileLine("Sidekiq"));
        Assert.Equal("SidekiqServer", names.ChefRoleFor("Sidekiq"));
        Assert.Equal("SidekiqServer", names.ChefRoleFor("Reports"));
        Assert.Equal("RailsAppServer", names.ChefRoleFor("RailsAppServer"));
        Assert.Equal("DevDebug", names.ChefRoleFor("DevDebug"));
        Assert.Equal("TTM-Base", names.BaseRole);
        Assert.Equal(new[] { "RailsAppServer", "NodeAppServer", "Sidekiq", "Reports", "DataLoad", "DevDebug", "SystemWatcher" }, names.ProductionRoles);
        Assert.True(names.IsProtectedFarm("Production"));
        Assert.True(names.IsProtectedFarm("production"));
        Assert.False(names.IsProtectedFarm("Dev"));
    }

    [Fact]
    public void A_configuration_overrides_only_what_it_names()
    {
        var names = NameTables.FromJson("""
            {
              // comments are fine
              "procfile": { "web": "PumaServer", "worker": "Sidekiq" },
              "chefRoles": { "Reports": "ReportsServer" },
              "protectedFarms": ["Production", "Production-EU"],
            }
            """);
        Assert.Equal("PumaServer", names.RoleForProcfileLine("web"));
        Assert.Equal("Sidekiq", names.RoleForProcfileLine("worker"));
        Assert.Equal("ReportsServer", names.ChefRoleFor("Reports"));
        Assert.Equal("SidekiqServer", names.ChefRoleFor("Sidekiq"));
        Assert.True(names.IsProtectedFarm("Production-EU"));
        Assert.Equal("TTM-Base", names.BaseRole);
        Assert.Equal("Rebundle-Staging", names.StagingFarm);
    }

    [Fact]
    public void The_production_farm_setting_also_moves_the_guard_unless_protected_farms_are_given()
    {
        var names = NameTables.FromJson("""{ "productionFarm": "Live" }""");
        Assert.True(names.IsProtectedFarm("Live"));
        Assert.False(names.IsProtectedFarm("Production"));
    }

    [Theory]
    [InlineData("{ \"procfile\": [\"web\"] }", "'procfile'")]
    [InlineData("{ \"baseRole\": \"\" }", "'baseRole'")]
    [InlineData("{ \"knownRole\": [] }", "unknown key 'knownRole'")]
    [InlineData("[1, 2]", "JSON object")]
    [InlineData("{ not json", "not valid JSON")]
    public void A_broken_configuration_is_refused_with_the_reason(string json, string reason)
    {
        var error = Assert.Throws<TtmException>(() => NameTables.FromJson(json, "configuration file x.json"));
        Assert.Equal(TtmErrorCode.ConfigInvalid, error.Code);
        Assert.Contains(reason, error.Message);
        Assert.Contains("x.json", error.Message);
    }
}

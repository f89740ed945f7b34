using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Tests;

public class RoleCatalogTests
{
    private static readonly RoleCatalog Catalog = new(new[]
    {
        Role.Named("RailsAppServer", "ami-1"),
        Role.Named("RailsAppServer-1-6", "ami-1"),
        Role.Named("RailsAppServer-1-10", "ami-2"),
        Role.Named("RailsAppServer-1-9", "ami-3"),
        Role.Named("Sidekiq", "ami-4"),
        Role.Named("Sidekiq-2-0", "ami-5"),
        Role.Named("Node12", "ami-6"),
        Role.Named("Node12-1-3", "ami-7"),
        Role.Named("TTM-Base", "ami-8"),
    });

    [Fact]
    public void Latest_is_the_highest_version_per_base_name_compared_as_numbers() =>
        Assert.Equal(new[] { "Node12-1-3", "RailsAppServer-1-10", "Sidekiq-2-0" }, Catalog.Latest().Select(r => r.Name));

    [Theory]
    [InlineData("RailsAppServer", false, "1-11")]
    [InlineData("RailsAppServer", true, "2-0")]
    [InlineData("Sidekiq", false, "2-1")]
    [InlineData("Node12", false, "1-4")]
    [InlineData("TTM-Base", false, "1-0")]
    [InlineData("Brand-New", true, "1-0")]
    public void Next_version(string baseName, bool major, string expected) =>
        Assert.Equal(expected, Catalog.NextVersion(baseName, major).ToString());

    [Fact]
    public void By_default_only_production_roles_are_listed() =>
        Assert.Equal(new[] { "Node12", "RailsAppServer", "Sidekiq", "TTM-Base" }, Catalog.Select(null, false, false).Items.Select(r => r.Name));

    [Fact]
    public void A_base_name_with_IncludeVersions_lists_the_role_and_its_versions_in_order() =>
        Assert.Equal(new[] { "RailsAppServer", "RailsAppServer-1-6", "RailsAppServer-1-9", "RailsAppServer-1-10" },
            Catalog.Select(new[] { "RailsAppServer" }, false, true).Items.Select(r => r.Name));

    [Fact]
    public void A_versioned_name_selects_that_role() =>
        Assert.Equal("ami-3", Catalog.Select(new[] { "RailsAppServer-1-9" }, false, false).Items.Single().ImageId);

    [Fact]
    public void Latest_with_a_name_gives_that_roles_latest_version() =>
        Assert.Equal("RailsAppServer-1-10", Catalog.Select(new[] { "RailsAppServer" }, true, false).Items.Single().Name);

    [Fact]
    public void An_unknown_name_is_a_miss_with_a_suggestion_and_wildcards_are_not()
    {
        var result = Catalog.Select(new[] { "RailsAppSrver", "Nothing*" }, false, false);
        Assert.Empty(result.Items);
        var miss = Assert.Single(result.Misses);
        Assert.Equal(TtmErrorCode.RoleNotFound, miss.Code);
        Assert.Contains("Did you mean 'RailsAppServer'", miss.Message);
    }
}

using Rebundle.Domain;
using Rebundle.Errors;
using Xunit;

namespace Rebundle.Tests;

public class RoleNameTests
{
    [Theory]
    [InlineData("RailsAppServer-2-5", "RailsAppServer", "2-5")]
    [InlineData("TTM-Base-1-3", "TTM-Base", "1-3")]
    [InlineData("Node12-1-3", "Node12", "1-3")]
    [InlineData("Web-2-1-0", "Web-2", "1-0")]
    [InlineData("Sidekiq-1-10", "Sidekiq", "1-10")]
    public void Splits_a_versioned_name_at_the_last_two_numbers(string name, string baseName, string version)
    {
        var parsed = RoleName.Parse(name);
        Assert.Equal(baseName, parsed.BaseName);
        Assert.Equal(version, parsed.Version!.ToString());
        Assert.Equal(name, parsed.FullName);
    }

    [Theory]
    [InlineData("RailsAppServer")]
    [InlineData("TTM-Base")]
    [InlineData("Web-2")]
    [InlineData("Server2")]
    public void A_name_without_a_trailing_version_is_a_production_role(string name)
    {
        var parsed = RoleName.Parse(name);
        Assert.Equal(name, parsed.BaseName);
        Assert.Null(parsed.Version);
        Assert.False(parsed.IsVersioned);
    }

    [Fact]
    public void Base_name_and_version_make_the_versioned_name()
    {
        var name = new RoleName("RailsAppServer", RoleVersion.Parse("2-5"));
        Assert.Equal("RailsAppServer-2-5", name.FullName);
        Assert.Equal("RailsAppServer", RoleName.BaseOf("RailsAppServer-2-6"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("Rails App")]
    [InlineData("-Rails")]
    public void Rejects_names_that_are_not_role_names(string name)
    {
        var error = Assert.Throws<TtmException>(() => RoleName.Parse(name));
        Assert.Equal(TtmErrorCode.RoleNameMalformed, error.Code);
    }
}

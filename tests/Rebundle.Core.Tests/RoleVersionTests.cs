using Rebundle.Domain;
using Rebundle.Errors;
using Xunit;

namespace Rebundle.Tests;

public class RoleVersionTests
{
    [Theory]
    [InlineData("2-5", 2, 5)]
    [InlineData("1-0", 1, 0)]
    [InlineData("10-12", 10, 12)]
    [InlineData(" 3-4 ", 3, 4)]
    public void Parses_major_and_minor(string text, int major, int minor)
    {
        var version = RoleVersion.Parse(text);
        Assert.Equal(major, version.Major);
        Assert.Equal(minor, version.Minor);
        Assert.Equal($"{major}-{minor}", version.ToString());
    }

    [Theory]
    [InlineData("2.5")]
    [InlineData("-1-0")]
    [InlineData("x-y")]
    [InlineData("2-")]
    [InlineData("")]
    [InlineData("2")]
    [InlineData("1-2-3")]
    public void Rejects_malformed_versions_with_a_message_that_shows_the_form(string text)
    {
        var error = Assert.Throws<TtmException>(() => RoleVersion.Parse(text));
        Assert.Equal(TtmErrorCode.VersionMalformed, error.Code);
        Assert.Equal("TtmVersionMalformed", error.ErrorId);
        Assert.Contains($"'{text}'", error.Message);
        Assert.Contains("'2-5'", error.Message);
    }

    [Fact]
    public void Next_minor_and_next_major_follow_the_runbook()
    {
        var version = RoleVersion.Parse("2-5");
        Assert.Equal("2-6", version.NextMinor().ToString());
        Assert.Equal("3-0", version.NextMajor().ToString());
        Assert.Equal("2-6", version.Next(major: false).ToString());
        Assert.Equal("3-0", version.Next(major: true).ToString());
    }

    [Fact]
    public void Compares_numerically_not_as_text()
    {
        Assert.True(RoleVersion.Parse("1-10") > RoleVersion.Parse("1-9"));
        Assert.True(RoleVersion.Parse("2-0") > RoleVersion.Parse("1-99"));
        Assert.Equal(RoleVersion.Parse("1-6"), new RoleVersion(1, 6));
    }

    [Fact]
    public void A_role_without_versions_starts_at_1_0() => Assert.Equal("1-0", RoleVersion.Initial.ToString());
}

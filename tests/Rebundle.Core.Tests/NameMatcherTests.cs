using Rebundle.Naming;
using Xunit;

namespace Rebundle.Tests;

public class NameMatcherTests
{
    [Theory]
    [InlineData("RailsAppServer", "rails*", true)]
    [InlineData("RailsAppServer", "RAILSAPPSERVER", true)]
    [InlineData("RailsAppServer-1-7", "*-1-?", true)]
    [InlineData("RailsAppServer", "Node*", false)]
    [InlineData("Rebundle-Staging", "Rebundle-Staging-2", false)]
    public void Matches_like_PowerShell(string name, string pattern, bool expected) =>
        Assert.Equal(expected, NameMatcher.IsMatch(name, pattern));

    [Fact]
    public void Suggests_the_nearest_names_for_a_typo()
    {
        var known = new[] { "Dev", "Production", "Rebundle-Staging" };
        Assert.Equal(new[] { "Production" }, NameMatcher.Nearest("Prodution", known));
        Assert.Contains("Did you mean 'Rebundle-Staging'?", NameMatcher.SuggestionText("Rebundle-Stageing", known));
    }

    [Fact]
    public void Lists_known_names_when_nothing_is_near()
    {
        var text = NameMatcher.SuggestionText("Zzzzzzzzzz", new[] { "Dev", "Production" });
        Assert.Equal(" Known names: Dev, Production.", text);
    }
}

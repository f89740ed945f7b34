using Rebundle.Errors;
using Rebundle.Rebundling;
using Xunit;

namespace Rebundle.Tests;

/// <summary>
/// Invoke-TtmRebundle wires up SSH only when the run needs it (as its journal recorded, when
/// resuming) and SSH can reach the servers; otherwise the runner says why, before writing anything.
/// </summary>
public class RemoteWorkRuleTests : IDisposable
{
    private readonly TestFleet _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public void On_the_Sandbox_an_OS_update_gets_SSH_only_when_the_operator_names_an_address()
    {
        var options = new RebundleOptions();

        Assert.True(RemoteWorkRule.Needed(null, options));
        Assert.False(RemoteWorkRule.Applies(null, options, _t.Backend, addressGiven: false));
        Assert.True(RemoteWorkRule.Applies(null, options, _t.Backend, addressGiven: true));
    }

    [Fact]
    public void Without_the_OS_update_and_checks_no_SSH_is_wired_even_with_an_address()
    {
        Assert.False(RemoteWorkRule.Applies(null, new RebundleOptions { SkipOsUpdate = true }, _t.Backend, addressGiven: true));
        Assert.True(RemoteWorkRule.Applies(null, new RebundleOptions { SkipOsUpdate = true, Verify = true }, _t.Backend, addressGiven: true));
    }

    [Fact]
    public void Resuming_follows_the_journals_plan_not_the_parameters_left_out()
    {
        var skippedAndUnchecked = RebundlePlan.Compute(_t.Fleet, new RebundleOptions { SkipOsUpdate = true });
        var checkedRun = RebundlePlan.Compute(_t.Fleet, new RebundleOptions { SkipOsUpdate = true, Verify = true });

        // -Resume alone: no -SkipOsUpdate and no -Check typed again.
        Assert.False(RemoteWorkRule.Needed(skippedAndUnchecked, new RebundleOptions()));
        Assert.True(RemoteWorkRule.Needed(checkedRun, new RebundleOptions { SkipOsUpdate = true }));
    }

    [Fact]
    public void A_plan_needing_SSH_it_was_not_given_is_explained_and_refused_before_the_journal_is_written()
    {
        var journal = new MemoryJournal();
        var runner = new RebundleRunner(_t.Fleet, journal, _t.Reporter, preparation: null);
        var plan = runner.Plan(new RebundleOptions());

        var why = runner.WhyUnreachable(plan);

        Assert.NotNull(why);
        Assert.Contains("-SkipOsUpdate", why!.Message);
        Assert.Equal(why.Message, Assert.Throws<TtmException>(() => runner.RequireReachable(plan)).Message);
        Assert.Empty(journal.Entries);
        Assert.Null(new RebundleRunner(_t.Fleet, journal, _t.Reporter).WhyUnreachable(runner.Plan(new RebundleOptions { SkipOsUpdate = true })));
    }
}

using Rebundle.Errors;
using Rebundle.Rebundling;
using Xunit;

namespace Rebundle.Tests;

/// <summary>-Resume with the original run's parameters: accepted when they match the journal, refused naming each difference.</summary>
public class ResumeCheckTests : IDisposable
{
    private readonly TestFleet _t = new();
    private readonly RebundlePlan _recorded;

    public ResumeCheckTests() =>
        _recorded = RebundlePlan.Compute(_t.Fleet, new RebundleOptions { SkipOsUpdate = true, Roles = new[] { "Sidekiq", "RailsAppServer" }, BatchSize = 2 });

    public void Dispose() => _t.Dispose();

    [Fact]
    public void Nothing_given_again_or_the_same_values_in_another_case_and_order_match()
    {
        Assert.Empty(ResumeCheck.Differences(_recorded, new RebundleRestatement()));
        Assert.Empty(ResumeCheck.Differences(_recorded, new RebundleRestatement
        {
            StagingFarm = "rebundle-staging", TestFarm = "DEV", ProductionFarm = "Production",
            Roles = new[] { "railsappserver", "Sidekiq", "Sidekiq" }, Major = false, Packages = new string[0],
            SkipOsUpdate = true, Verify = null, BatchSize = 2,
        }));
    }

    [Fact]
    public void Each_difference_is_named_with_the_journals_value()
    {
        var differences = ResumeCheck.Differences(_recorded, new RebundleRestatement
        {
            TestFarm = "Production", Roles = new[] { "Sidekiq" }, Major = true, Packages = new[] { "libvips42" },
            SkipOsUpdate = false, Verify = true, BatchSize = 3,
        });

        Assert.Equal(new[]
        {
            "-TestFarm Production (journal: Dev)",
            "-Role Sidekiq (journal: RailsAppServer, Sidekiq)",
            "-Major $true (journal: $false)",
            "-Package libvips42 (journal: )",
            "-SkipOsUpdate $false (journal: $true)",
            "-Check given (journal: none)",
            "-BatchSize 3 (journal: 2)",
        }, differences);
    }

    [Fact]
    public void Require_refuses_with_InvalidArgument_naming_the_journal_and_the_way_out()
    {
        var error = Assert.Throws<TtmException>(() => ResumeCheck.Require(_recorded, new RebundleRestatement { BatchSize = 5 }, "/tmp/j.jsonl"));
        Assert.Equal(TtmErrorCode.InvalidArgument, error.Code);
        Assert.Contains("/tmp/j.jsonl", error.Message);
        Assert.Contains("-BatchSize 5 (journal: 2)", error.Message);
        Assert.Contains("Leave those parameters out", error.Message);
    }

    [Fact]
    public void The_plan_report_carries_the_steps_as_printed_and_the_servers_per_farm()
    {
        var runner = new RebundleRunner(_t.Fleet, new MemoryJournal(), _t.Reporter);
        var counts = runner.ServerCounts(_recorded);
        var report = RebundlePlanReport.For(_recorded, counts, "/tmp/j.jsonl", isResume: false);

        Assert.Equal(_recorded.Describe(counts), report.Steps);
        Assert.Equal(7, report.Servers["Production"]);
        Assert.Equal("Sidekiq-1-7", report.Snapshots["Sidekiq"]);
        Assert.StartsWith("Rebundle plan (journal: /tmp/j.jsonl):" + Environment.NewLine + "  1. Snapshot the TTM-Base server", report.ToString());
    }
}

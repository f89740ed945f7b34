using Rebundle.Reporting;
using Xunit;

namespace Rebundle.Tests;

/// <summary>The fleet report's timeline: labels of versions made on one day, or a day apart, never drawn over each other.</summary>
public class TimelineLayoutTests
{
    private static readonly DateTimeOffset TakenAt = new(2025, 6, 30, 12, 0, 0, TimeSpan.Zero);

    private static RoleVersionReport Version(string baseName, string version, DateTimeOffset createdAt) =>
        new() { Role = baseName + "-" + version, BaseName = baseName, Version = version, ImageCreatedAt = createdAt };

    /// <summary>A year of images: five Sidekiq versions from one moment, RailsAppServer's a day apart (two pixels on this axis).</summary>
    private static IReadOnlyList<RoleVersionReport> CrowdedFleet()
    {
        var sameDay = TakenAt.AddDays(-10);
        return new[]
        {
            Version("Sidekiq", "1-6", TakenAt.AddDays(-365)),
            Version("Sidekiq", "1-7", sameDay), Version("Sidekiq", "1-8", sameDay), Version("Sidekiq", "1-9", sameDay),
            Version("Sidekiq", "1-10", sameDay), Version("Sidekiq", "2-0", sameDay),
            Version("RailsAppServer", "1-6", TakenAt.AddDays(-365)),
            Version("RailsAppServer", "1-7", TakenAt.AddDays(-3)), Version("RailsAppServer", "1-8", TakenAt.AddDays(-2)),
            Version("RailsAppServer", "1-9", TakenAt.AddDays(-2).AddHours(1)),
            Version("SystemWatcher", "10-11", TakenAt),
        };
    }

    private static IEnumerable<TimelineLabel> Labels(TimelineLayout layout) => layout.Rows.SelectMany(r => r.Labels);

    [Fact]
    public void No_two_labels_overlap_when_versions_share_a_date_or_are_a_day_apart()
    {
        var labels = Labels(TimelineLayout.Of(CrowdedFleet(), TakenAt)).ToList();

        Assert.Equal(11, labels.Count);
        var overlapping = from a in labels
                          from b in labels
                          where string.CompareOrdinal(a.Version.Role, b.Version.Role) < 0 && a.Box.Overlaps(b.Box)
                          select a.Version.Role + " and " + b.Version.Role;
        Assert.Empty(overlapping);
    }

    [Fact]
    public void Each_box_is_the_estimated_width_of_its_text_and_lies_inside_its_row_and_the_svg()
    {
        var layout = TimelineLayout.Of(CrowdedFleet(), TakenAt);

        foreach (var row in layout.Rows)
            foreach (var label in row.Labels)
            {
                Assert.Equal(TimelineLayout.EstimatedWidth(label.Version.Version), label.Box.Width, 6);
                Assert.True(label.Box.Left >= 0 && label.Box.Right <= TimelineLayout.Width, $"{label.Version.Role} leaves the SVG sideways: {label.Box}");
                Assert.True(label.Box.Top >= row.Top && label.Box.Bottom < row.LineY, $"{label.Version.Role} is not above its row's line: {label.Box}, {row}");
            }
        Assert.All(layout.Rows.Zip(layout.Rows.Skip(1), (above, below) => (above, below)), pair => Assert.True(pair.above.Bottom <= pair.below.Top));
        Assert.True(layout.Rows.Last().Bottom < layout.AxisY - 10, "the axis dates are under the last row");
    }

    [Fact]
    public void Rows_grow_by_a_lane_for_each_label_that_finds_no_room_and_the_svg_with_them()
    {
        var crowded = TimelineLayout.Of(CrowdedFleet(), TakenAt);
        var spread = TimelineLayout.Of(CrowdedFleet().Select((v, i) => v with { ImageCreatedAt = TakenAt.AddDays(-30 * i) }), TakenAt);

        Assert.Equal(new[] { ("RailsAppServer", 3), ("Sidekiq", 5), ("SystemWatcher", 1) }, crowded.Rows.Select(r => (r.BaseName, r.Lanes)));
        Assert.All(spread.Rows, r => Assert.Equal(1, r.Lanes));
        Assert.Equal(6 * TimelineLayout.LaneHeight, crowded.Height - spread.Height, 6);
    }

    [Fact]
    public void A_label_goes_back_down_to_the_first_lane_once_the_crowd_is_behind_it()
    {
        var sameDay = TakenAt.AddDays(-200);
        var versions = new[] { Version("Sidekiq", "1-6", sameDay), Version("Sidekiq", "1-7", sameDay), Version("Sidekiq", "1-8", TakenAt) };

        var lanes = TimelineLayout.Of(versions, TakenAt).Rows.Single().Labels.Select(l => (l.Version.Version, l.Lane));

        Assert.Equal(new[] { ("1-6", 0), ("1-7", 1), ("1-8", 0) }, lanes);
    }

    [Fact]
    public void The_page_draws_the_layout_an_svg_as_tall_as_its_lanes_each_label_at_its_box()
    {
        var report = new FleetReport(TakenAt, "Sandbox", "here", Array.Empty<FarmRoleReport>(), CrowdedFleet());
        var layout = TimelineLayout.Of(report.RoleVersions, report.TakenAt);

        var page = FleetReportPage.Render(report, Array.Empty<Rebundle.Audit.AuditEntry>());

        Assert.Contains(FormattableString.Invariant($"viewBox=\"0 0 960 {layout.Height:0.#}\""), page);
        var sidekiq20 = Labels(layout).Single(l => l.Version.Role == "Sidekiq-2-0");
        Assert.Contains(FormattableString.Invariant($"<text class=\"label\" data-lane=\"{sidekiq20.Lane}\" x=\"{sidekiq20.TextX:0.#}\" y=\"{sidekiq20.BaselineY:0.#}\">2-0</text>"), page);
    }
}

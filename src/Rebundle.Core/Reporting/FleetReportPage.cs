using System.Globalization;
using System.Net;
using System.Text;
using Rebundle.Audit;

namespace Rebundle.Reporting
{
    /// <summary>
    /// The fleet report as one self-contained HTML page (Get-TtmFleetReport -Html): inline CSS and
    /// SVG, no scripts, nothing fetched, so it opens anywhere and prints on one landscape page for
    /// a change ticket. Every name from the fleet or the audit log is data: it is HTML-encoded.
    /// Pure: it returns the text; the cmdlet writes the file.
    /// </summary>
    public static class FleetReportPage
    {
        /// <summary>Images younger than this many days are fresh; older than <see cref="OldDays"/>, old.</summary>
        public const int FreshDays = 30;

        public const int OldDays = 90;

        public static string Render(FleetReport report, IReadOnlyList<AuditEntry> lastChanges)
        {
            var html = new StringBuilder();
            html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .Append("<title>Fleet report, ").Append(E(report.Backend)).Append(", ").Append(Time(report.TakenAt)).Append("</title>")
                .Append("<style>").Append(Style).Append("</style></head><body>\n");
            html.Append("<header><h1>Fleet report</h1><p class=\"taken\">Taken <time datetime=\"").Append(report.TakenAt.ToString("o", CultureInfo.InvariantCulture))
                .Append("\">").Append(Time(report.TakenAt)).Append("</time> from <span class=\"backend\">").Append(E(report.Backend))
                .Append("</span> <span class=\"location\">").Append(E(report.Location)).Append("</span></p></header>\n");
            Matrix(html, report);
            Timeline(html, report);
            Audit(html, lastChanges);
            return html.Append("</body></html>\n").ToString();
        }

        /// <summary>The CSS class of an image's age: fresh, aging or old.</summary>
        public static string AgeClass(int? days) =>
            days == null ? "age-unknown" : days < FreshDays ? "age-fresh" : days < OldDays ? "age-aging" : "age-old";

        private static void Matrix(StringBuilder html, FleetReport report)
        {
            var aliases = report.FarmRoles.Select(r => r.Alias).Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(a => a, StringComparer.OrdinalIgnoreCase).ToList();
            var farms = report.FarmRoles.Select(r => r.Farm).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            html.Append("<section id=\"matrix\"><h2>Versions by farm and role</h2><table class=\"matrix\"><thead><tr><th>Farm</th>");
            foreach (var alias in aliases) html.Append("<th scope=\"col\">").Append(E(alias)).Append("</th>");
            html.Append("</tr></thead><tbody>\n");
            foreach (var farm in farms)
            {
                html.Append("<tr><th scope=\"row\">").Append(E(farm)).Append("</th>");
                foreach (var alias in aliases)
                {
                    var row = report.FarmRoles.FirstOrDefault(r => Same(r.Farm, farm) && Same(r.Alias, alias));
                    if (row == null) { html.Append("<td class=\"none\"></td>"); continue; }
                    var classes = "cell " + AgeClass(row.ImageAgeDays) + (row.Drift > 0 ? " drift" : "") + (row.PendingPromotion != null ? " pending" : "");
                    var title = $"{row.Farm}/{row.Alias} runs {row.Role}, image {row.ImageId ?? "unknown"}" +
                        (row.ImageAgeDays == null ? "" : $" ({row.ImageAgeDays} days old)") + $", {row.Running}/{row.Wanted} running" +
                        (row.TargetGroups.Count > 0 ? $", {(row.Healthy?.ToString() ?? "?")}/{row.Wanted} healthy in target group(s) {string.Join(", ", row.TargetGroups)}" + (row.HealthUnknown != null ? $" ({row.HealthUnknown})" : "") : "") +
                        (row.Drift > 0 ? $"; on another image: {string.Join(", ", row.DriftedServers)}" : "") +
                        (row.PendingPromotion != null ? $"; {row.PendingPromotion} waits to be promoted" : "");
                    html.Append("<td class=\"").Append(classes).Append("\" data-farm=\"").Append(E(row.Farm)).Append("\" data-alias=\"").Append(E(row.Alias))
                        .Append("\" title=\"").Append(E(title)).Append("\"><span class=\"version\">").Append(E(row.Version ?? row.Role)).Append("</span>");
                    if (!row.IsLatest) html.Append(" <span class=\"behind\" title=\"newest is ").Append(E(row.LatestVersion ?? "")).Append("\">behind</span>");
                    if (row.Drift > 0) html.Append(" <span class=\"drift-mark\">&#9888; ").Append(row.Drift).Append(" drifted</span>");
                    if (row.PendingPromotion != null) html.Append(" <span class=\"pending-mark\">&#8593; ").Append(E(row.PendingPromotion)).Append("</span>");
                    html.Append("<span class=\"count\">").Append(row.Running).Append('/').Append(row.Wanted).Append("</span>");
                    if (row.TargetGroups.Count > 0)
                        html.Append(" <span class=\"healthy").Append(row.Healthy < row.Wanted || row.Healthy == null ? " short" : "").Append("\">")
                            .Append(row.Healthy?.ToString() ?? "?").Append('/').Append(row.Wanted).Append(" healthy</span>");
                    html.Append("</td>");
                }
                html.Append("</tr>\n");
            }
            html.Append("</tbody></table><p class=\"legend\"><span class=\"cell age-fresh\">image under ").Append(FreshDays)
                .Append(" days</span> <span class=\"cell age-aging\">under ").Append(OldDays).Append(" days</span> <span class=\"cell age-old\">older</span> ")
                .Append("<span class=\"cell drift\">&#9888; servers on another image than their role's: recycle them</span> ")
                .Append("<span>&#8593; version tried on the test farm, not yet promoted</span> <span>n/m running/wanted</span> <span>n/m healthy: behind a load balancer, healthy in every target group/wanted</span></p></section>\n");
        }

        private static void Timeline(StringBuilder html, FleetReport report)
        {
            html.Append("<section id=\"timeline\"><h2>Role versions by image date</h2>");
            // Versions made together share an x; the layout stacks their labels in lanes instead of on each other.
            var layout = TimelineLayout.Of(report.RoleVersions, report.TakenAt);
            if (layout.Rows.Count == 0) { html.Append("<p>No image dates known.</p></section>\n"); return; }
            html.Append("<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ").Append(N(TimelineLayout.Width)).Append(' ').Append(N(layout.Height))
                .Append("\" width=\"100%\" role=\"img\" aria-label=\"Role versions by image creation date\">");
            foreach (var row in layout.Rows) BaseRow(html, row);
            html.Append("<text class=\"axis\" x=\"").Append(N(TimelineLayout.AxisStart)).Append("\" y=\"").Append(N(layout.AxisY)).Append("\">").Append(Date(layout.First))
                .Append("</text><text class=\"axis end\" x=\"").Append(N(TimelineLayout.AxisEnd)).Append("\" y=\"").Append(N(layout.AxisY)).Append("\">").Append(Date(layout.Last))
                .Append("</text></svg><p class=\"legend\">Filled: a farm runs it, or a production role carries its image. Dashed: safe to retire (Remove-TtmRoleVersion would).")
                .Append(" Labels of versions made close together stack upwards.</p></section>\n");
        }

        private static void BaseRow(StringBuilder html, TimelineRow row)
        {
            html.Append("<g class=\"base\" data-base=\"").Append(E(row.BaseName)).Append("\"><text x=\"4\" y=\"").Append(N(row.LineY + 4)).Append("\">").Append(E(row.BaseName)).Append("</text>")
                .Append("<line x1=\"").Append(N(TimelineLayout.AxisStart)).Append("\" x2=\"").Append(N(TimelineLayout.AxisEnd)).Append("\" y1=\"").Append(N(row.LineY)).Append("\" y2=\"").Append(N(row.LineY)).Append("\"/>");
            foreach (var label in row.Labels)
            {
                var version = label.Version;
                html.Append("<circle class=\"point").Append(version.Farms.Count > 0 || version.CarriedBy.Count > 0 ? " running" : "").Append(version.SafeToRetire ? " retirable" : "")
                    .Append("\" data-role=\"").Append(E(version.Role)).Append("\" data-created=\"").Append(version.ImageCreatedAt!.Value.ToString("o", CultureInfo.InvariantCulture))
                    .Append("\" cx=\"").Append(N(label.PointX)).Append("\" cy=\"").Append(N(row.LineY)).Append("\" r=\"5\"><title>")
                    .Append(E($"{version.Role}: image {version.ImageId} made {Time(version.ImageCreatedAt.Value)}" + (version.Farms.Count > 0 ? ", runs in " + string.Join(", ", version.Farms) : "")))
                    .Append("</title></circle><text class=\"label\" data-lane=\"").Append(label.Lane).Append("\" x=\"").Append(N(label.TextX)).Append("\" y=\"").Append(N(label.BaselineY)).Append("\">")
                    .Append(E(version.Version)).Append("</text>");
            }
            html.Append("</g>");
        }

        private static void Audit(StringBuilder html, IReadOnlyList<AuditEntry> changes)
        {
            html.Append("<section id=\"audit\"><h2>Last changes</h2>");
            if (changes.Count == 0) { html.Append("<p>No changes in the audit log.</p></section>\n"); return; }
            html.Append("<table class=\"audit\"><thead><tr><th>Time</th><th>User</th><th>Action</th><th>Target</th><th>Before</th><th>After</th><th>Outcome</th></tr></thead><tbody>\n");
            foreach (var entry in changes)
            {
                html.Append("<tr class=\"").Append(entry.Outcome.ToString().ToLowerInvariant()).Append("\"><td>").Append(Time(entry.Time)).Append("</td><td>").Append(E(entry.User))
                    .Append("</td><td>").Append(E(entry.Action)).Append("</td><td>").Append(E(entry.Target)).Append("</td><td>").Append(E(entry.Before ?? ""))
                    .Append("</td><td>").Append(E(entry.After ?? "")).Append("</td><td>").Append(entry.Outcome).Append("</td></tr>\n");
            }
            html.Append("</tbody></table></section>\n");
        }

        private const string Style =
            "@page{size:A4 landscape;margin:8mm}" +
            "body{font:12px/1.3 system-ui,sans-serif;margin:12px;color:#222}h1{font-size:18px;margin:0}h2{font-size:14px;margin:10px 0 4px}" +
            ".taken{margin:2px 0;color:#555}table{border-collapse:collapse}th,td{border:1px solid #bbb;padding:2px 5px;text-align:left;vertical-align:top}" +
            ".matrix td{min-width:70px}.version{font-weight:600}.count{float:right;color:#666;margin-left:6px}.healthy{display:block;font-size:85%;color:#2b6a2b}.healthy.short{color:#b00020;font-weight:600}" +
            ".age-fresh{background:#e3f4e3}.age-aging{background:#fdf1cf}.age-old{background:#f9d6d2}.age-unknown{background:#eee}" +
            ".drift{outline:2px solid #c0392b;outline-offset:-2px}.drift-mark{color:#c0392b;font-weight:600}.pending-mark{color:#1f5fa8;font-weight:600}" +
            ".behind{color:#8a5a00;font-size:11px}.legend{color:#555;font-size:11px}.legend .cell{padding:0 4px}" +
            "svg.timeline{max-width:1300px}svg text{font-size:11px;fill:#222}svg line{stroke:#ccc}svg .label{text-anchor:middle;font-size:9px}" +
            "svg .axis{fill:#666}svg .end{text-anchor:end}circle.point{fill:#fff;stroke:#1f5fa8;stroke-width:2}circle.running{fill:#1f5fa8}" +
            "circle.retirable{stroke:#999;stroke-dasharray:2 2}.audit td{font-size:11px}.audit .failed td,.audit .unknown td{color:#c0392b}" +
            "@media print{body{margin:0;font-size:10px}svg.timeline{max-height:230px}section{break-inside:avoid}.audit td{font-size:9px}}";

        private static string E(string text) => WebUtility.HtmlEncode(text);

        private static bool Same(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

        private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

        private static string Date(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

        private static string N(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);
    }
}

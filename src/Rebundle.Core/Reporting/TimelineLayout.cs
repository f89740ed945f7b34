namespace Rebundle.Reporting
{
    /// <summary>
    /// Where the fleet report's timeline draws each role version, in the SVG's user units: one row
    /// per base name, a point at the version's image date on the row's line and the version's label
    /// above it. Versions made together (a rebundle snapshots several roles in one go, a retry an
    /// hour later) sit on the same or nearly the same x, so labels centred on their points would be
    /// drawn over each other. So each label goes into the lowest lane of its row where it clears
    /// the labels already there, and a row is as tall as its lanes. There are no fonts here: label
    /// widths are estimated, on the wide side, so the text the browser draws fits inside its box.
    /// </summary>
    public sealed class TimelineLayout
    {
        /// <summary>The SVG's width; the axis runs from <see cref="AxisStart"/> (base names left of it) to <see cref="AxisEnd"/>.</summary>
        public const double Width = 960;

        public const double AxisStart = 150;

        public const double AxisEnd = Width - 20;

        /// <summary>The labels' font size (CSS px, svg .label); the lanes and width estimate follow from it.</summary>
        public const double LabelFontSize = 9;

        /// <summary>One lane of labels: the text's ascent and descent (about 1.2 em) with a little air.</summary>
        public const double LaneHeight = 12;

        // Digits and the hyphen of a version (1-7, 12-10) are about 0.55 em wide in the usual sans
        // fonts; 0.7 em leaves room for a wider fallback font.
        private const double CharacterWidth = 0.7 * LabelFontSize;

        /// <summary>Least space between two labels in one lane.</summary>
        private const double LabelSpacing = 4;

        private const double Top = 4;

        /// <summary>From the lowest lane down to the row's line: the point's radius.</summary>
        private const double LabelToLine = 5;

        /// <summary>Below the line: the point's lower half and the base name's descent.</summary>
        private const double BelowLine = 7;

        /// <summary>Under the last row: the axis with its first and last date.</summary>
        private const double AxisSpace = 24;

        private TimelineLayout(DateTimeOffset first, DateTimeOffset last, IReadOnlyList<TimelineRow> rows, double height)
        {
            First = first;
            Last = last;
            Rows = rows;
            Height = height;
        }

        /// <summary>The axis's first date: the oldest image.</summary>
        public DateTimeOffset First { get; }

        /// <summary>The axis's last date: when the report was taken (a day after the oldest image at least).</summary>
        public DateTimeOffset Last { get; }

        /// <summary>One row per base name with a dated version, by name.</summary>
        public IReadOnlyList<TimelineRow> Rows { get; }

        /// <summary>The SVG's height: every row's lanes and the axis.</summary>
        public double Height { get; }

        /// <summary>The baseline of the axis's dates.</summary>
        public double AxisY => Height - 8;

        /// <summary>Lays out the versions whose image date is known; the others are not on the timeline.</summary>
        public static TimelineLayout Of(IEnumerable<RoleVersionReport> versions, DateTimeOffset takenAt)
        {
            var dated = versions.Where(v => v.ImageCreatedAt != null).ToList();
            var first = dated.Count == 0 ? takenAt : dated.Min(v => v.ImageCreatedAt!.Value);
            var last = takenAt > first ? takenAt : first + TimeSpan.FromDays(1);
            double X(DateTimeOffset t) => AxisStart + (AxisEnd - AxisStart) * ((t - first).TotalSeconds / Math.Max(1, (last - first).TotalSeconds));

            var rows = new List<TimelineRow>();
            var top = Top;
            foreach (var group in dated.GroupBy(v => v.BaseName, StringComparer.OrdinalIgnoreCase).OrderBy(g => g.Key, StringComparer.OrdinalIgnoreCase))
            {
                var row = LayOutRow(group.Key, group.Select(v => (v, X(v.ImageCreatedAt!.Value))), top);
                rows.Add(row);
                top = row.Bottom;
            }
            return new TimelineLayout(first, last, rows, top + AxisSpace);
        }

        /// <summary>The width a label's text is given: its characters at <see cref="CharacterWidth"/> each.</summary>
        public static double EstimatedWidth(string text) => text.Length * CharacterWidth;

        /// <summary>
        /// One base name's row from its top down: first each label's lane (only its x span matters),
        /// then, knowing how many lanes there are, the line under them and each label's box.
        /// </summary>
        private static TimelineRow LayOutRow(string baseName, IEnumerable<(RoleVersionReport Version, double PointX)> points, double top)
        {
            var spans = points.OrderBy(p => p.PointX).Select(p => (p.Version, p.PointX, Span: LabelSpan(p.Version.Version, p.PointX))).ToList();
            var laneEnds = new List<double>();
            var lanes = spans.Select(s => TakeLane(laneEnds, s.Span.Left, s.Span.Right)).ToList();

            var lineY = top + laneEnds.Count * LaneHeight + LabelToLine;
            var labels = spans.Select((s, i) =>
            {
                var laneTop = lineY - LabelToLine - (lanes[i] + 1) * LaneHeight;
                return new TimelineLabel(s.Version, s.PointX, lanes[i], new LabelBox(s.Span.Left, laneTop, s.Span.Right - s.Span.Left, LaneHeight));
            }).ToList();
            return new TimelineRow(baseName, top, lineY, lineY + BelowLine, laneEnds.Count, labels);
        }

        /// <summary>A label's x span: centred on its point, moved in where it would leave the SVG.</summary>
        private static (double Left, double Right) LabelSpan(string text, double pointX)
        {
            var width = EstimatedWidth(text);
            var left = Math.Min(Math.Max(pointX - width / 2, 0), Width - width);
            return (left, left + width);
        }

        /// <summary>
        /// The lowest lane whose last label ends, with <see cref="LabelSpacing"/>, before this one
        /// starts; a new lane above the others when none does. <paramref name="laneEnds"/> holds
        /// each lane's right end and takes this label's.
        /// </summary>
        private static int TakeLane(List<double> laneEnds, double left, double right)
        {
            var lane = laneEnds.FindIndex(end => end + LabelSpacing <= left);
            if (lane < 0)
            {
                laneEnds.Add(right);
                return laneEnds.Count - 1;
            }
            laneEnds[lane] = right;
            return lane;
        }
    }

    /// <summary>One base name's row, from <see cref="Top"/> to <see cref="Bottom"/>: its labels in <see cref="Lanes"/> lanes above the line at <see cref="LineY"/>.</summary>
    public sealed record TimelineRow(string BaseName, double Top, double LineY, double Bottom, int Lanes, IReadOnlyList<TimelineLabel> Labels);

    /// <summary>A version's point (at <see cref="PointX"/> on its row's line) and its label's box; lane 0 is just above the line.</summary>
    public sealed record TimelineLabel(RoleVersionReport Version, double PointX, int Lane, LabelBox Box)
    {
        /// <summary>The label text's anchor (text-anchor: middle): the box's centre.</summary>
        public double TextX => Box.Left + Box.Width / 2;

        /// <summary>The text's baseline: the box's bottom less the font's descent (about 0.25 em).</summary>
        public double BaselineY => Box.Bottom - 3;
    }

    /// <summary>A label's box in the SVG's user units.</summary>
    public sealed record LabelBox(double Left, double Top, double Width, double Height)
    {
        public double Right => Left + Width;

        public double Bottom => Top + Height;

        /// <summary>Whether the two boxes share any area (touching edges do not).</summary>
        public bool Overlaps(LabelBox other) =>
            Left < other.Right && other.Left < Right && Top < other.Bottom && other.Top < Bottom;
    }
}

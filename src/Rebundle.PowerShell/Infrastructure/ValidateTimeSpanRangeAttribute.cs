using System.Globalization;

namespace Rebundle.PowerShell.Infrastructure
{
    /// <summary>
    /// Checks a TimeSpan parameter against its allowed range while PowerShell binds it, so a
    /// value out of range fails before anything changes (a huge -Timeout once launched a server,
    /// then overflowed the clock and left it running). The ranges are in docs/decisions.md.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class ValidateTimeSpanRangeAttribute : ValidateArgumentsAttribute
    {
        /// <param name="minimum">The shortest allowed value, as TimeSpan text ("0:00:01", "7.00:00:00").</param>
        /// <param name="maximum">The longest allowed value.</param>
        public ValidateTimeSpanRangeAttribute(string minimum, string maximum)
        {
            Minimum = TimeSpan.Parse(minimum, CultureInfo.InvariantCulture);
            Maximum = TimeSpan.Parse(maximum, CultureInfo.InvariantCulture);
        }

        public TimeSpan Minimum { get; }

        public TimeSpan Maximum { get; }

        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            // Optional TimeSpan? parameters may be bound to $null: nothing to check.
            if (arguments == null) return;
            if (arguments is PSObject wrapped) arguments = wrapped.BaseObject;
            if (!(arguments is TimeSpan value))
                throw new ValidationMetadataException($"Expected a TimeSpan such as '0:05:00'; got a {arguments.GetType().Name}.");
            if (value < Minimum || value > Maximum)
                throw new ValidationMetadataException(
                    $"The value {value} is out of range: give a TimeSpan from {Describe(Minimum)} to {Describe(Maximum)}, for example '{Example()}'.");
        }

        // An example inside the range the operator can copy.
        private string Example()
        {
            var example = TimeSpan.FromMinutes(5);
            if (example > Maximum) example = Maximum;
            if (example < Minimum) example = Minimum;
            return example.ToString("c", CultureInfo.InvariantCulture);
        }

        private static string Describe(TimeSpan span)
        {
            if (span == TimeSpan.Zero) return "0";
            if (span.TotalDays >= 1 && span.TotalDays % 1 == 0) return Plural(span.TotalDays, "day");
            if (span.TotalHours >= 1 && span.TotalHours % 1 == 0) return Plural(span.TotalHours, "hour");
            if (span.TotalMinutes >= 1 && span.TotalMinutes % 1 == 0) return Plural(span.TotalMinutes, "minute");
            return Plural(span.TotalSeconds, "second");
        }

        private static string Plural(double count, string unit) =>
            count.ToString("0.###", CultureInfo.InvariantCulture) + " " + unit + (count == 1 ? "" : "s");
    }
}

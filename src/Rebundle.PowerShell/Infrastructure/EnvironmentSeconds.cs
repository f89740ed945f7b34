using System.Globalization;

namespace Rebundle.PowerShell.Infrastructure
{
    /// <summary>
    /// A time in seconds read from an environment variable (REBUNDLE_SANDBOX_LOCK_SECONDS,
    /// REBUNDLE_AWS_LEASE_SETTLE_SECONDS, REBUNDLE_COMPLETION_CACHE_SECONDS): invariant culture,
    /// and null when unset, not a number or outside the range, so the caller's default applies.
    /// </summary>
    internal static class EnvironmentSeconds
    {
        /// <summary>24 days: the longest wait a timer or a TimeSpan in milliseconds takes.</summary>
        public const double Longest = int.MaxValue / 1000.0;

        public static TimeSpan? Read(string variable, double least, double most) =>
            double.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                && seconds >= least && seconds <= most
                ? TimeSpan.FromSeconds(seconds)
                : (TimeSpan?)null;
    }
}

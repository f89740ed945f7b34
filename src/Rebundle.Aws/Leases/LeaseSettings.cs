using System.Diagnostics;
using Rebundle.Errors;

namespace Rebundle.Aws
{
    /// <summary>Who this connection's leases name, and their timing (docs/aws.md, Leases).</summary>
    internal sealed class LeaseSettings
    {
        public string User { get; private set; } = "";

        public string Host { get; private set; } = "";

        public int ProcessId { get; private set; }

        /// <summary>A lease not renewed for this long lapses, and -Force may take it over.</summary>
        public TimeSpan Duration { get; private set; }

        /// <summary>Renewed this long after it was last written: three renewals fit in one duration, so two may fail.</summary>
        public TimeSpan RenewEvery => TimeSpan.FromTicks(Duration.Ticks * 3 / 10);

        /// <summary>Real time between looks at the held leases (renewal is decided on the backend's clock).</summary>
        public TimeSpan RenewalCheck { get; private set; }

        public TimeSpan SettleTime { get; private set; }

        public static LeaseSettings From(AwsConnectionOptions options)
        {
            foreach (var (name, value) in new[] { ("LeaseDuration", options.LeaseDuration), ("LeaseRenewalCheck", options.LeaseRenewalCheck) })
                if (value is TimeSpan given && (given <= TimeSpan.Zero || given.TotalMilliseconds > int.MaxValue))
                    throw new TtmException(TtmErrorCode.InvalidArgument, $"{name} must be a positive time of at most 24 days; {given} is not.", name);
            if (options.LeaseSettleTime < TimeSpan.Zero)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"LeaseSettleTime may not be negative; {options.LeaseSettleTime} is.", "LeaseSettleTime");
            using var process = Process.GetCurrentProcess();
            return new LeaseSettings
            {
                User = string.IsNullOrWhiteSpace(options.LeaseUser) ? Environment.UserName : options.LeaseUser!,
                Host = string.IsNullOrWhiteSpace(options.LeaseHost) ? Environment.MachineName : options.LeaseHost!,
                ProcessId = process.Id,
                Duration = options.LeaseDuration ?? TimeSpan.FromMinutes(10),
                RenewalCheck = options.LeaseRenewalCheck ?? TimeSpan.FromSeconds(30),
                SettleTime = options.LeaseSettleTime ?? TimeSpan.FromSeconds(2),
            };
        }
    }
}

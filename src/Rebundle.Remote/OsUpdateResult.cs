namespace Rebundle.Remote
{
    /// <summary>What Update-TtmServerOs did on one server.</summary>
    public sealed record OsUpdateResult
    {
        public string Server { get; init; } = "";

        public string Farm { get; init; } = "";

        public string Address { get; init; } = "";

        /// <summary>Names of the packages upgraded.</summary>
        public IReadOnlyList<string> Upgraded => Changes.Where(c => c.Action == AptOutput.Upgraded).Select(c => c.Name).ToList();

        /// <summary>Names of the packages newly installed (asked for with -Package, or pulled in).</summary>
        public IReadOnlyList<string> Installed => Changes.Where(c => c.Action == AptOutput.Installed).Select(c => c.Name).ToList();

        /// <summary>Packages apt held back; they need <c>apt-get dist-upgrade</c> or an explicit install.</summary>
        public IReadOnlyList<string> KeptBack { get; init; } = Array.Empty<string>();

        /// <summary>Every change with its new version.</summary>
        public IReadOnlyList<PackageChange> Changes { get; init; } = Array.Empty<PackageChange>();

        public bool Rebooted { get; init; }

        /// <summary>The boot time the server reported before the reboot (as <c>uptime -s</c> prints it).</summary>
        public string? BootTimeBefore { get; init; }

        /// <summary>The boot time after the reboot; differs from <see cref="BootTimeBefore"/> when the server really restarted.</summary>
        public string? BootTimeAfter { get; init; }

        public TimeSpan Duration { get; init; }

        public override string ToString() => $"{Server}: {Upgraded.Count} upgraded, {Installed.Count} installed" + (Rebooted ? ", rebooted" : "");
    }

    /// <summary>How an OS update runs. Every wait has a bound.</summary>
    public sealed record OsUpdateOptions
    {
        /// <summary>Packages to <c>apt-get install</c> after the upgrade.</summary>
        public IReadOnlyList<string> Packages { get; init; } = Array.Empty<string>();

        public bool Reboot { get; init; }

        /// <summary>How long apt waits for another apt or dpkg (e.g. unattended-upgrades) to release the dpkg lock.</summary>
        public TimeSpan DpkgLockTimeout { get; init; } = TimeSpan.FromMinutes(5);

        /// <summary>How long each apt-get command may run (the lock wait included).</summary>
        public TimeSpan AptTimeout { get; init; } = TimeSpan.FromMinutes(30);

        /// <summary>How long to wait for the server to answer SSH again with a new boot time.</summary>
        public TimeSpan RebootTimeout { get; init; } = TimeSpan.FromMinutes(10);

        /// <summary>How long to wait between attempts to reach a rebooting server.</summary>
        public TimeSpan RebootPollInterval { get; init; } = TimeSpan.FromSeconds(5);
    }
}

using Rebundle.PowerShell.Remote;
using Rebundle.Remote;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Runbook step 1: patches servers with non-interactive apt (update, upgrade -y, optional
    /// install), waiting for a held dpkg lock; with -Reboot, reboots and waits (bounded, with
    /// progress) until SSH answers again with a new boot time. Outputs what was upgraded.
    /// </summary>
    [Cmdlet(VerbsData.Update, "TtmServerOs", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpPages.Root + "Update-TtmServerOs.md")]
    [OutputType(typeof(OsUpdateResult))]
    public sealed class UpdateTtmServerOsCommand : TtmSshCmdlet
    {
        /// <summary>Packages to apt-get install after the upgrade (name, name:arch or name=version).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? Package { get; set; }

        /// <summary>Reboot after updating and wait until the server is back.</summary>
        [Parameter]
        public SwitchParameter Reboot { get; set; }

        /// <summary>How long to wait for the server to come back after the reboot.</summary>
        [Parameter]
        [ValidateTimeSpanRange("0:00:01", "7.00:00:00")]
        [TimeSpanArgument]
        public TimeSpan RebootTimeout { get; set; } = TimeSpan.FromMinutes(10);

        /// <summary>How long apt waits for another apt or dpkg (e.g. unattended-upgrades) to let go of the dpkg lock.</summary>
        [Parameter]
        [ValidateTimeSpanRange("0:00:00", "1.00:00:00")]
        [TimeSpanArgument]
        public TimeSpan DpkgLockTimeout { get; set; } = TimeSpan.FromMinutes(5);

        /// <summary>How long each apt-get command may run.</summary>
        [Parameter]
        [ValidateTimeSpanRange("0:00:01", "7.00:00:00")]
        [TimeSpanArgument]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(30);

        /// <summary>Do not ask again for servers of a protected farm (Production).</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        private OsUpdater _updater = null!;

        protected override void Begin()
        {
            base.Begin();
            RequireSeconds(RebootTimeout, nameof(RebootTimeout));
            RequireSeconds(DpkgLockTimeout, nameof(DpkgLockTimeout));
            RequireSeconds(Timeout, nameof(Timeout));
            _updater = new OsUpdater(new OsUpdateOptions
            {
                Packages = Package ?? Array.Empty<string>(),
                Reboot = Reboot,
                RebootTimeout = RebootTimeout,
                DpkgLockTimeout = DpkgLockTimeout,
                AptTimeout = Timeout,
            }, SystemClock.Instance);
        }

        protected override void End()
        {
            // Confirm first: -WhatIf must not ask for a key's passphrase or look for keys.
            var approved = Servers.Where(server => ShouldRunOn(server, _updater.Describe(), Force)).ToList();

            foreach (var (server, outcome) in RunOnAll("Updating the OS", Targets(Timeout, approved), _updater.Update))
            {
                if (outcome.Error != null) WriteTtmError(outcome.Error, server);
                else WriteObject(outcome.Result);
            }
        }
    }
}

using Rebundle.Remote;

namespace Rebundle.PowerShell.Remote
{
    /// <summary>
    /// The check parameters, declared once for the cmdlets that verify servers over SSH
    /// (Test-TtmServer, Invoke-TtmRebundle): which kinds of check, and what the Service,
    /// Package and Command checks look for. What a missing -Check means is the cmdlet's own
    /// (Test-TtmServer: every kind; Invoke-TtmRebundle: no checks).
    /// </summary>
    public abstract class TtmCheckCmdlet : TtmRemoteCmdlet
    {
        /// <summary>Which kinds of check run.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public ServerCheckKind[]? Check { get; set; }

        /// <summary>systemd services the Service check wants active.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? Service { get; set; }

        /// <summary>Debian packages the Package check wants installed.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? PackageName { get; set; }

        /// <summary>Shell commands the Command check wants to exit with 0.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? Command { get; set; }

        /// <summary>Chef's file cache (file_cache_path in client.rb).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string ChefCachePath { get; set; } = ServerCheck.DefaultChefCachePath;

        /// <summary>The checks these parameters ask for (null -Check: every kind).</summary>
        protected IReadOnlyList<ServerCheck> PlannedChecks() =>
            ServerCheck.Plan(Check, ChefCachePath, Service, PackageName, Command);
    }
}

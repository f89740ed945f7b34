using Rebundle.Backends;
using Rebundle.Naming;
using Rebundle.Sandbox;

namespace Rebundle.PowerShell.Commands
{
    public sealed partial class ConnectTtmFleetCommand
    {
        private const string SandboxSet = "Sandbox";

        /// <summary>Rehearse on the embedded Sandbox fleet.</summary>
        [Parameter(Mandatory = true, ParameterSetName = SandboxSet)]
        public SwitchParameter Sandbox { get; set; }

        /// <summary>The Sandbox's folder; default ~/.rebundle/sandbox.</summary>
        [Parameter(ParameterSetName = SandboxSet)]
        [ValidateNotNullOrEmpty]
        public string? Path { get; set; }

        internal IFleetBackend ConnectSandbox(NameTables names) =>
            SandboxBackend.Open(Path == null ? null : GetUnresolvedProviderPathFromPSPath(Path), names, lockTimeout: SandboxLockTimeout);

        /// <summary>
        /// How long a command waits for another process's lock on the Sandbox file:
        /// $env:REBUNDLE_SANDBOX_LOCK_SECONDS, else the Sandbox's own 30 seconds. The lock tests
        /// (tests/powershell/ErrorIds.Tests.ps1) prove TtmStateFileLocked without waiting 30 s.
        /// </summary>
        private static TimeSpan? SandboxLockTimeout => EnvironmentSeconds.Read("REBUNDLE_SANDBOX_LOCK_SECONDS", 0.001, EnvironmentSeconds.Longest);
    }
}

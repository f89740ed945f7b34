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
            SandboxBackend.Open(Path == null ? null : GetUnresolvedProviderPathFromPSPath(Path), names);
    }
}

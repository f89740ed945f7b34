using System;
using System.IO;
using System.Management.Automation;
using Rebundle.Errors;
using Rebundle.Naming;
using Rebundle.PowerShell.Infrastructure;
using Rebundle.Runbook;
using Rebundle.Sandbox;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>Picks the fleet this session works on and returns the connection.</summary>
    [Cmdlet(VerbsCommunications.Connect, "TtmFleet", DefaultParameterSetName = SandboxSet)]
    [OutputType(typeof(FleetConnection))]
    public sealed class ConnectTtmFleetCommand : TtmCmdlet
    {
        private const string SandboxSet = "Sandbox";

        /// <summary>Rehearse on the embedded Sandbox fleet.</summary>
        [Parameter(Mandatory = true, ParameterSetName = SandboxSet)]
        public SwitchParameter Sandbox { get; set; }

        /// <summary>The Sandbox's folder; default ~/.rebundle/sandbox.</summary>
        [Parameter(ParameterSetName = SandboxSet)]
        [ValidateNotNullOrEmpty]
        public string? Path { get; set; }

        // ---- Backend parameter sets (AWS, Scalr) are added here, each in its own region. ----

        /// <summary>A JSON file overriding the name tables; default $env:REBUNDLE_CONFIG, else ~/.rebundle/config.json when present.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ConfigurationPath { get; set; }

        protected override bool NeedsConnection => false;

        protected override void End()
        {
            var (names, configPath) = LoadNameTables();
            var backend = ParameterSetName switch
            {
                SandboxSet => SandboxBackend.Open(Path == null ? null : GetUnresolvedProviderPathFromPSPath(Path), names),
                _ => throw new TtmException(TtmErrorCode.InvalidArgument, $"Unknown backend '{ParameterSetName}'."),
            };
            var connection = new FleetConnection(new Fleet(backend, names), DateTimeOffset.Now, configPath);
            FleetSession.Set(connection);
            WriteVerbose($"Connected to the {connection.Backend} fleet at {connection.Location}.");
            WriteObject(connection);
        }

        private (NameTables names, string? path) LoadNameTables()
        {
            var path = ConfigurationPath != null ? GetUnresolvedProviderPathFromPSPath(ConfigurationPath) : DefaultConfigurationPath();
            if (path == null) return (NameTables.Default, null);
            if (!File.Exists(path))
                throw new TtmException(TtmErrorCode.ConfigInvalid, $"The configuration file {path} does not exist. Give an existing file, or leave out -ConfigurationPath to use the runbook's defaults.", path);
            return (NameTables.FromJson(File.ReadAllText(path), "configuration file " + path), path);
        }

        private static string? DefaultConfigurationPath()
        {
            var fromEnvironment = Environment.GetEnvironmentVariable("REBUNDLE_CONFIG");
            if (!string.IsNullOrEmpty(fromEnvironment)) return fromEnvironment;
            var inProfile = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".rebundle", "config.json");
            return File.Exists(inProfile) ? inProfile : null;
        }
    }
}

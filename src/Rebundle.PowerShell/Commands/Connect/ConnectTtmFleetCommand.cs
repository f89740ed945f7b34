using System.IO;
using Rebundle.Naming;
using Rebundle.PowerShell.Infrastructure.Files;
using Rebundle.Safety;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Picks the fleet this session works on and returns the connection. Each backend's
    /// parameter set and how it connects are in its own file beside this one
    /// (ConnectTtmFleetCommand.Sandbox.cs, .Aws.cs, .Scalr.cs); BackendRegistry chooses among them.
    /// </summary>
    [Cmdlet(VerbsCommunications.Connect, "TtmFleet", DefaultParameterSetName = SandboxSet, HelpUri = HelpPages.Root + "Connect-TtmFleet.md")]
    [OutputType(typeof(FleetConnection))]
    public sealed partial class ConnectTtmFleetCommand : TtmCmdlet
    {
        /// <summary>Where every change is logged (JSON lines); default $env:REBUNDLE_AUDIT_LOG, else ~/.rebundle/audit.log.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? AuditLogPath { get; set; }

        /// <summary>A JSON file overriding the name tables; default $env:REBUNDLE_CONFIG, else ~/.rebundle/config.json when present.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ConfigurationPath { get; set; }

        /// <summary>How often waits ask EC2 (-Aws) or Scalr (-Scalr) again; default 5 seconds.</summary>
        [Parameter(ParameterSetName = AwsSet)]
        [Parameter(ParameterSetName = ScalrSet)]
        [ValidateTimeSpanRange("0:00:00.1", "1:00:00")]
        [TimeSpanArgument]
        public TimeSpan? PollInterval { get; set; }

        protected override bool NeedsConnection => false;

        protected override void End()
        {
            var (names, configPath) = LoadNameTables();
            var choice = BackendRegistry.For(ParameterSetName);
            var backend = choice.Connect(this, names);
            var auditPath = AuditLogPath != null ? GetUnresolvedProviderPathFromPSPath(AuditLogPath) : FileAuditSink.DefaultPath();
            var user = Environment.UserName + "@" + Environment.MachineName;
            IFarmLeases leases = new FileLeases(FileLeases.FolderFor(backend.Kind.ToString(), backend.Location, choice.LeaseFolder(backend)), user);
            // A backend that can hold leases itself (AWS: a tag on the farm's templates) shares them with every machine.
            if (backend.Capability<IFarmLeases>() is { } shared) leases = new LayeredLeases(leases, shared);
            // Every change passes the guard (protected farms from the configuration), holds the
            // lease on the farms it touches, and is audited ahead.
            var fleet = Fleet.Audited(backend, new FileAuditSink(auditPath), user, names, new ChangeGuard(names.IsProtectedFarm), leases);
            var connection = new FleetConnection(fleet, DateTimeOffset.Now, configPath, auditPath);
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

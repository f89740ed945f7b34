using System.IO;
using Rebundle.Audit;
using System.Runtime.CompilerServices;
using Rebundle.Backends;
using Rebundle.Naming;
using Rebundle.PowerShell.Infrastructure.Files;
using Rebundle.Safety;
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

        internal IFleetBackend ConnectSandbox(NameTables names) =>
            SandboxBackend.Open(Path == null ? null : GetUnresolvedProviderPathFromPSPath(Path), names);

        // ---- Backend parameter sets (AWS, Scalr) are added here, each in its own region, ----
        // ---- and each backend has its entry in Infrastructure/BackendRegistry.cs.        ----

        /// <summary>Where every change is logged (JSON lines); default $env:REBUNDLE_AUDIT_LOG, else ~/.rebundle/audit.log.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? AuditLogPath { get; set; }
        #region Scalr
        private const string ScalrSet = "Scalr";

        /// <summary>Work on a Scalr environment through its APIv2 (see docs/scalr.md).</summary>
        [Parameter(Mandatory = true, ParameterSetName = ScalrSet)]
        public SwitchParameter Scalr { get; set; }

        /// <summary>The Scalr server, e.g. https://my.scalr.com; default $env:SCALR_URL.</summary>
        [Parameter(ParameterSetName = ScalrSet)]
        [ValidateNotNull]
        public Uri? Url { get; set; }

        /// <summary>The API key id; default $env:SCALR_KEY_ID.</summary>
        [Parameter(ParameterSetName = ScalrSet)]
        [ValidateNotNullOrEmpty]
        public string? KeyId { get; set; }

        /// <summary>The API secret key; default $env:SCALR_SECRET. Never printed.</summary>
        [Parameter(ParameterSetName = ScalrSet)]
        [ValidateNotNull]
        public System.Security.SecureString? Secret { get; set; }

        /// <summary>The Scalr environment id; default $env:SCALR_ENV_ID.</summary>
        [Parameter(ParameterSetName = ScalrSet)]
        [ValidateNotNullOrEmpty]
        public string? EnvironmentId { get; set; }

        /// <summary>The AWS region for snapshots (EC2 CreateImage); default: the server's cloud location.</summary>
        [Parameter(ParameterSetName = ScalrSet)]
        [ValidateNotNullOrEmpty]
        public string? AwsRegion { get; set; }

        /// <summary>The AWS credentials profile for snapshots; default: the SDK's credential chain.</summary>
        [Parameter(ParameterSetName = ScalrSet)]
        [ValidateNotNullOrEmpty]
        public string? AwsProfileName { get; set; }

        /// <summary>An EC2-compatible endpoint for snapshots.</summary>
        [Parameter(ParameterSetName = ScalrSet)]
        [ValidateNotNullOrEmpty]
        public string? Ec2EndpointUrl { get; set; }

        // Its own method, not inlined, so the Scalr client and the AWS SDK load only when -Scalr is used.
        [MethodImpl(MethodImplOptions.NoInlining)]
        internal IFleetBackend ConnectScalr()
        {
            var options = new Rebundle.Scalr.ScalrConnectionOptions
            {
                Url = Url,
                KeyId = KeyId ?? "",
                Secret = Secret,
                EnvironmentId = EnvironmentId ?? "",
                AwsRegion = AwsRegion,
                AwsProfileName = AwsProfileName,
                Ec2EndpointUrl = Ec2EndpointUrl,
            }.WithEnvironmentDefaults();
            WriteVerbose($"Connecting to {options} (the secret is not shown).");
            return Rebundle.Scalr.ScalrBackend.Connect(options);
        }
        #endregion

        #region AWS (docs/aws.md)

        private const string AwsSet = "Aws";

        /// <summary>Work on EC2: roles and farm roles as tagged launch templates, servers as tagged instances.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AwsSet)]
        public SwitchParameter Aws { get; set; }

        /// <summary>The AWS region; default the profile's, else AWS_REGION / AWS_DEFAULT_REGION.</summary>
        [Parameter(ParameterSetName = AwsSet)]
        [ValidateNotNullOrEmpty]
        public string? Region { get; set; }

        /// <summary>A profile of ~/.aws/credentials or ~/.aws/config; default the SDK's credential chain.</summary>
        [Parameter(ParameterSetName = AwsSet)]
        [ValidateNotNullOrEmpty]
        public string? ProfileName { get; set; }

        /// <summary>Any EC2-compatible endpoint instead of the region's, e.g. http://127.0.0.1:4566/.</summary>
        [Parameter(ParameterSetName = AwsSet)]
        [ValidateNotNullOrEmpty]
        public string? EndpointUrl { get; set; }

        /// <summary>How often waits ask EC2 again; default 5 seconds.</summary>
        [Parameter(ParameterSetName = AwsSet)]
        [ValidateTimeSpanRange("0:00:00.1", "1:00:00")]
        [TimeSpanArgument]
        public TimeSpan? PollInterval { get; set; }

        // Its own method, not inlined, so the AWS SDK loads only when -Aws is used.
        [MethodImpl(MethodImplOptions.NoInlining)]
        internal IFleetBackend ConnectAws() => Rebundle.Aws.AwsBackend.Connect(new Rebundle.Aws.AwsConnectionOptions
        {
            Region = Region,
            ProfileName = ProfileName,
            EndpointUrl = EndpointUrl,
            PollInterval = PollInterval,
        });

        #endregion

        /// <summary>A JSON file overriding the name tables; default $env:REBUNDLE_CONFIG, else ~/.rebundle/config.json when present.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ConfigurationPath { get; set; }

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

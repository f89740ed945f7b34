using System.Runtime.CompilerServices;
using Rebundle.Backends;

namespace Rebundle.PowerShell.Commands
{
    public sealed partial class ConnectTtmFleetCommand
    {
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
                PollInterval = PollInterval,
            }.WithEnvironmentDefaults();
            WriteVerbose($"Connecting to {options} (the secret is not shown).");
            return Rebundle.Scalr.ScalrBackend.Connect(options);
        }
    }
}

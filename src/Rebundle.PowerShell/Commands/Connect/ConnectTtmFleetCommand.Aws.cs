using System.Runtime.CompilerServices;
using Rebundle.Backends;

namespace Rebundle.PowerShell.Commands
{
    public sealed partial class ConnectTtmFleetCommand
    {
        // docs/aws.md

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

        // Its own method, not inlined, so the AWS SDK loads only when -Aws is used.
        [MethodImpl(MethodImplOptions.NoInlining)]
        internal IFleetBackend ConnectAws() => Rebundle.Aws.AwsBackend.Connect(new Rebundle.Aws.AwsConnectionOptions
        {
            Region = Region,
            ProfileName = ProfileName,
            EndpointUrl = EndpointUrl,
            PollInterval = PollInterval,
            LeaseSettleTime = LeaseSettleTime,
        });

        /// <summary>
        /// How long a lease waits between writing its tags and reading them back:
        /// $env:REBUNDLE_AWS_LEASE_SETTLE_SECONDS (0 or more), else the backend's own 2 seconds
        /// (docs/aws.md, Leases). For EC2-compatible endpoints whose tags are read back at once;
        /// the Pester tests' loopback endpoint is one, so its every change does not wait 2 s.
        /// </summary>
        private static TimeSpan? LeaseSettleTime => EnvironmentSeconds.Read("REBUNDLE_AWS_LEASE_SETTLE_SECONDS", 0, 60);
    }
}

using Rebundle.Aws.Ec2;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Runbook;
using Rebundle.Safety;
using Image = Rebundle.Domain.Image;

namespace Rebundle.Aws
{
    /// <summary>
    /// The fleet on EC2, mapped as docs/aws.md describes: roles and farm roles are tagged launch
    /// templates, servers are tagged instances, snapshots are CreateImage. The backend does the
    /// reads and changes of <see cref="IFleetBackend"/> (AwsBackend.Reads, .Changes, .Batches)
    /// over the EC2 layer (<see cref="Ec2"/>); each optional capability is a part of its own,
    /// with its own state and lock, handed out by <see cref="Capability{T}"/>.
    /// </summary>
    public sealed partial class AwsBackend : IFleetBackend
    {
        private readonly Ec2Calls _calls;
        private readonly Ec2Reads _reads;
        private readonly string _region;

        // State the backend's own reads and changes share with some parts: what EC2 does not list
        // yet, which instances an Auto Scaling group owns, and a planning pass's shared view.
        private readonly UnseenObjects _unseen;
        private readonly AutoScalingGuard _autoScaling;
        private readonly StatusChecks _statusChecks;
        private readonly AwsSharedReads _shared;

        private readonly AwsImageLookup _imageLookup;
        private readonly AwsRoleRetirement _retirement;
        private readonly AwsPermissionCheck _permissions;
        private readonly AwsFarmLeases _leases;
        private readonly AwsLoadBalancing _loadBalancing;
        private readonly AutoScaling.AwsScalingGroups _scaling;
        private readonly AwsFleetIntake _intake;
        private readonly Ssm.AwsSsmTransport _ssm;

        // Capability<T> answers with the first of these that is a T; the backend itself stands
        // for IFleetBackend, as a backend always has.
        private readonly object[] _capabilities;

        private AwsBackend(Ec2Calls calls, Elb.Elbv2Calls elb, Func<IClock, TimeSpan, AutoScaling.AutoScalingCalls> autoScaling, Ssm.SsmCalls ssm,
            string region, IClock clock, TimeSpan pollInterval, LeaseSettings leases)
        {
            _calls = calls;
            _reads = new Ec2Reads(calls);
            _region = region;
            Clock = clock;
            PollInterval = pollInterval;
            _unseen = new UnseenObjects(clock);
            _autoScaling = new AutoScalingGuard(_reads);
            _statusChecks = new StatusChecks(calls);
            _shared = new AwsSharedReads(_reads);
            _imageLookup = new AwsImageLookup(calls, _unseen);
            _retirement = new AwsRoleRetirement(calls, _reads, _unseen, _shared);
            _scaling = new AutoScaling.AwsScalingGroups(autoScaling(clock, pollInterval), calls, _reads, _shared, clock, pollInterval);
            _permissions = new AwsPermissionCheck(calls, _reads, _shared, elb, _scaling.Calls, ssm);
            _leases = new AwsFarmLeases(calls, _reads, clock, leases);
            _loadBalancing = new AwsLoadBalancing(elb);
            _intake = new AwsFleetIntake(calls, _reads, _scaling, _shared, _unseen, region, clock, pollInterval);
            _ssm = new Ssm.AwsSsmTransport(ssm, clock);
            _capabilities = new object[] { this, _imageLookup, _retirement, _permissions, _leases, _shared, _loadBalancing, _scaling, _intake, _ssm, ReachableOverSsh.Instance };
        }

        public BackendKind Kind => BackendKind.Aws;

        /// <summary>EC2's CreateImage reboots the instance unless told NoReboot.</summary>
        public bool SnapshotReboots => true;

        public string Location => _calls.Location;

        public IClock Clock { get; }

        public TimeSpan PollInterval { get; }

        /// <summary>Image lookup, role retirement, permission checks, shared leases (a tag on the farm's templates), shared reads, ELBv2 target groups, Auto Scaling groups, bringing a fleet in and SSH-reachable servers: each a part.</summary>
        public T? Capability<T>() where T : class => _capabilities.OfType<T>().FirstOrDefault();

        // Kept on the concrete backend for code that holds an AwsBackend (the xunit tests). The
        // backend does not implement the capability interfaces: Capability<T> is the way to them.

        /// <inheritdoc cref="IFarmLeases.AcquireFarms"/>
        public IDisposable AcquireFarms(IReadOnlyCollection<string> farms, string purpose, bool breakExpired) =>
            _leases.AcquireFarms(farms, purpose, breakExpired);

        /// <inheritdoc cref="IImageLookup.FindImagesByName"/>
        public IReadOnlyList<Image> FindImagesByName(string name, CancellationToken cancellationToken = default) =>
            _imageLookup.FindImagesByName(name, cancellationToken);

        /// <inheritdoc cref="IRoleRetirement.DeleteRole"/>
        public void DeleteRole(Role role, bool deleteImage, CancellationToken cancellationToken = default) =>
            _retirement.DeleteRole(role, deleteImage, cancellationToken);

        /// <inheritdoc cref="IPermissionCheck.MissingPermissions"/>
        public IReadOnlyList<MissingPermission> MissingPermissions(PermissionCheckRequest request, CancellationToken cancellationToken = default) =>
            _permissions.MissingPermissions(request, cancellationToken);

        /// <summary>The ELBv2 target groups part, for code that holds an AwsBackend (tests); the audit wrapper hands it out only audited.</summary>
        internal ILoadBalancing LoadBalancing => _loadBalancing;

        /// <summary>The Auto Scaling groups part (hold and release), for tests; the audit wrapper hands it out only audited.</summary>
        internal IScalingGroups ScalingGroups => _scaling;

        /// <summary>Remote work over Systems Manager, for tests (the cmdlets ask Capability&lt;ISsmTransport&gt;).</summary>
        internal Ssm.AwsSsmTransport SsmTransport => _ssm;

        /// <summary>The typed Auto Scaling calls on this connection, for tests that play another writer.</summary>
        internal AutoScaling.AutoScalingCalls AutoScalingCalls => _scaling.Calls;

        public void Dispose()
        {
            _leases.Dispose();
            _loadBalancing.Dispose();
            _scaling.Dispose();
            _ssm.Dispose();
            _calls.Dispose();
        }

        /// <summary>EC2's servers answer SSH at the addresses it reports: a marker, no state.</summary>
        private sealed class ReachableOverSsh : ISshReachableServers
        {
            public static readonly ReachableOverSsh Instance = new ReachableOverSsh();
        }
    }
}

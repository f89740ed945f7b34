using Rebundle.Domain;
using Rebundle.Runbook;

namespace Rebundle.Backends
{
    /// <summary>
    /// One fleet behind one interface: the Sandbox, AWS or Scalr. Cmdlets never talk to a
    /// backend directly; the runbook services in <c>Rebundle.Runbook</c> do, so every rule
    /// (versions, names, batching, timeouts) is written once and holds on every backend.
    ///
    /// Reads return whole lists in as few calls as the backend allows (tag filters and
    /// pagination, never one call per server). Changes act on one object (or one batch of
    /// servers) and return it as it is after the change. Failures are <see cref="Errors.TtmException"/>s.
    ///
    /// Every call takes a cancellation token (Ctrl+C): a cancelled call throws
    /// <see cref="OperationCanceledException"/> promptly, even while the backend is retrying or
    /// waiting for an answer, and never reports a change it did not make.
    /// </summary>
    public interface IFleetBackend : IDisposable
    {
        BackendKind Kind { get; }

        /// <summary>
        /// Whether a snapshot (<see cref="CreateImage"/>) reboots the server unless told
        /// <c>noReboot</c>: EC2's CreateImage does (AWS, and Scalr's snapshots); the Sandbox never.
        /// </summary>
        bool SnapshotReboots { get; }

        /// <summary>Where the fleet lives, for display: a file path, a region and endpoint, a URL.</summary>
        string Location { get; }

        /// <summary>The clock waits run on; tests drive it.</summary>
        IClock Clock { get; }

        /// <summary>How often a wait asks the backend again.</summary>
        TimeSpan PollInterval { get; }

        IReadOnlyList<Farm> GetFarms(CancellationToken cancellationToken = default);

        /// <summary>Farm roles of the named farms, or of every farm when <paramref name="farms"/> is null.</summary>
        IReadOnlyList<FarmRole> GetFarmRoles(IReadOnlyCollection<string>? farms = null, CancellationToken cancellationToken = default);

        /// <summary>Every role, production and versioned.</summary>
        IReadOnlyList<Role> GetRoles(CancellationToken cancellationToken = default);

        /// <summary>Servers matching the query; terminated servers only when the query asks.</summary>
        IReadOnlyList<Server> GetServers(ServerQuery query, CancellationToken cancellationToken = default);

        /// <summary>The images with the given ids; unknown ids are left out.</summary>
        IReadOnlyList<Image> GetImages(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default);

        /// <summary>Starts an image of the server's disk, named <paramref name="imageName"/>. Returns it pending.</summary>
        /// <param name="noReboot">
        /// Take the image without rebooting the server (EC2's NoReboot: the file systems are not
        /// quiesced). Backends that never reboot for a snapshot ignore it.
        /// </param>
        Image CreateImage(Server source, string imageName, bool noReboot = false, CancellationToken cancellationToken = default);

        /// <summary>
        /// Creates role <paramref name="roleName"/> with the launch settings of <paramref name="template"/>
        /// and the image <paramref name="imageId"/>. <paramref name="runId"/>, when given, is kept
        /// with the role (<see cref="Role.CreatedByRun"/>) so a resumed rebundle knows it made it.
        /// </summary>
        Role CreateRole(string roleName, Role template, string imageId, string? runId = null, CancellationToken cancellationToken = default);

        /// <summary>The role now launches servers from <paramref name="imageId"/>; history is kept where the backend can.</summary>
        Role SetRoleImage(Role role, string imageId, CancellationToken cancellationToken = default);

        /// <summary>The farm role now runs role <paramref name="roleName"/>.</summary>
        FarmRole SetFarmRoleRole(FarmRole farmRole, string roleName, CancellationToken cancellationToken = default);

        /// <summary>
        /// Launches <paramref name="count"/> more servers of the farm role in as few calls as the
        /// backend allows (the Sandbox: one state write). Returns them pending, each with its own
        /// index and tags. A count below 1 launches nothing. A batch that fails after some of it
        /// launched throws <see cref="Errors.LaunchIncompleteException"/> naming those, so nothing
        /// launched is lost; one server is a batch of one (<see cref="FleetBackendExtensions.LaunchServer"/>).
        /// </summary>
        IReadOnlyList<Server> LaunchServers(FarmRole farmRole, int count, CancellationToken cancellationToken = default);

        /// <summary>Terminates every server given, in as few calls as the backend allows (AWS: 1,000 ids a call).</summary>
        void TerminateServers(IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default);

        /// <summary>
        /// The optional capability <typeparamref name="T"/> (<see cref="IImageLookup"/>,
        /// <see cref="IRoleRetirement"/>, <see cref="ISshReachableServers"/>, Sandbox control, leases),
        /// or null when this backend has not got it. Wrappers forward the question to what they wrap.
        /// </summary>
        T? Capability<T>() where T : class;
    }
}

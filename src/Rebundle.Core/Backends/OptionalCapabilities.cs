using Rebundle.Domain;

namespace Rebundle.Backends
{
    // Optional capabilities are asked for with IFleetBackend.Capability<T>(), never guessed with
    // `is`: a wrapper (the audit wrapper) must answer for what it wraps, and may hand out a
    // capability only in a form that keeps its guarantees.

    /// <summary>
    /// A capability that changes nothing in the fleet (reads, or settings of a rehearsal), so a
    /// wrapper may forward it as it is. A capability that changes the fleet must not implement
    /// this: the audit wrapper then hands it out only guarded and audited, or not at all.
    /// </summary>
    public interface IUnauditedCapability
    {
    }

    /// <summary>
    /// A backend that can find images by name. A resumed rebundle uses it to find an image that
    /// was started just before a crash, before the journal could record its id, instead of
    /// snapshotting the role a second time.
    /// </summary>
    public interface IImageLookup : IUnauditedCapability
    {
        IReadOnlyList<Image> FindImagesByName(string name, CancellationToken cancellationToken = default);
    }

    /// <summary>A backend that can retire a role (and, where it owns them, its image and disk snapshots).</summary>
    public interface IRoleRetirement
    {
        /// <summary>Deletes the role; with <paramref name="deleteImage"/> also its image and the image's snapshots.</summary>
        void DeleteRole(Role role, bool deleteImage, CancellationToken cancellationToken = default);
    }

    /// <summary>
    /// A backend whose servers can be reached over SSH at the addresses it reports (AWS, Scalr).
    /// The Sandbox's servers have made-up addresses, so it does not offer this.
    /// </summary>
    public interface ISshReachableServers : IUnauditedCapability
    {
    }

    /// <summary>
    /// A backend whose polls should slow down as a wait goes on (Scalr: its per-key rate limit).
    /// The Waiter lengthens the pause between rounds by half each round, up to this.
    /// </summary>
    public interface IPollBackoff : IUnauditedCapability
    {
        TimeSpan LongestPollInterval { get; }
    }

    /// <summary>
    /// A backend that can answer one planning pass from one view of the fleet. Inside
    /// <see cref="ReadEachListOnce"/>, each list is read at most once and later reads get that
    /// answer: Scalr's servers are matched to farm roles, farm roles to roles, by reading those
    /// lists; on AWS farms are farm roles read again. So a caller that reads the whole fleet for
    /// one view (the fleet report, a recycle's plan, a rebundle's preview) costs each list's pages
    /// once. A change made through the backend meanwhile forgets what it changed, so a read after
    /// it is fresh; anything else is as old as the scope, which is why a scope spans one pass of
    /// reads close together and never a wait or a question to the operator.
    /// </summary>
    public interface ISharedListReads : IUnauditedCapability
    {
        /// <summary>Starts the scope; disposing it ends it (scopes may nest).</summary>
        IDisposable ReadEachListOnce();
    }
}

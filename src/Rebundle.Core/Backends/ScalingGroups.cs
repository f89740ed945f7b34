using Rebundle.Domain;

namespace Rebundle.Backends
{
    /// <summary>
    /// A backend whose farm roles can be Auto Scaling groups (<see cref="FarmRole.ScalingGroup"/>).
    /// The backend's own LaunchServers and TerminateServers already go through the group (raise
    /// its desired capacity; terminate with the desired capacity lowered), so a recycle's rolling
    /// window is the same for a group as for plain servers. What a group adds is a hold around
    /// the recycle: the processes that would fight it suspended, its max raised when a batch
    /// needs room, the new servers protected from scale-in while old ones go, and all of it put
    /// back afterwards. The record of what to put back is kept on the group itself, written
    /// before the first change, so a run killed halfway leaves it for the next run to restore.
    /// Both change the group, so the audit wrapper hands this out only guarded, leased and audited.
    /// </summary>
    public interface IScalingGroups
    {
        /// <summary>
        /// Before a recycle launches into the group: records what to restore (desired count, max,
        /// the processes it suspends now, when), then suspends the processes that would fight the
        /// recycle (AZRebalance, ReplaceUnhealthy). A record left by an interrupted run is kept as
        /// it is: it says how the group was before that run. Returns notes for the operator
        /// (lifecycle hooks the recycle will wait for).
        /// </summary>
        IReadOnlyList<string> Hold(FarmRole farmRole, CancellationToken cancellationToken = default);

        /// <summary>
        /// After a recycle: waits (up to <paramref name="timeout"/>) until no server of the group is
        /// in a lifecycle hook's wait, then puts back max, scale-in protection and processes as the
        /// record says and removes the record. A group not back at its recorded desired count (a
        /// stopped recycle left servers to drain) keeps its record for the next run. Returns what
        /// was done or why not, for the operator.
        /// </summary>
        ScalingRelease Release(FarmRole farmRole, TimeSpan timeout, CancellationToken cancellationToken = default);
    }

    /// <summary>What <see cref="IScalingGroups.Release"/> did: restored, or kept for the next run (and why).</summary>
    public sealed record ScalingRelease(bool Restored, string Note);
}

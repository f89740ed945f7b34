using Rebundle.Backends;
using Rebundle.Domain;

namespace Rebundle.Runbook
{
    /// <summary>
    /// A recycle's hold on the Auto Scaling groups it works in (<see cref="IScalingGroups"/>):
    /// taken before the first launch, released when the recycle ends — also when it stops, so
    /// Ctrl+C leaves no process suspended and no max raised unless servers are still draining
    /// (then the group keeps its record and the next recycle of the farm restores it). A group
    /// an interrupted run left held is taken in even when nothing else is left to replace there,
    /// so the run that finds it is the one that puts it back.
    /// </summary>
    internal sealed class ScalingGroupHold
    {
        private readonly IScalingGroups? _groups;
        private readonly IRunbookReporter _reporter;
        private readonly List<FarmRole> _held = new List<FarmRole>();

        public ScalingGroupHold(IFleetBackend backend, IRunbookReporter reporter)
        {
            _groups = backend.Capability<IScalingGroups>();
            _reporter = reporter;
        }

        /// <summary>The group farm roles of the plans that the recycle touches (or an interrupted run left held).</summary>
        public static IEnumerable<FarmRole> InPlay(IEnumerable<RecyclePlan> plans)
        {
            foreach (var plan in plans)
            {
                var touched = new HashSet<string>(plan.Batches.SelectMany(b => b).Select(s => s.FarmRoleId)
                    .Concat(plan.Surplus.Select(s => s.Server.FarmRoleId)), StringComparer.Ordinal);
                foreach (var farmRole in plan.FarmRoles.Where(r => r.IsScalingGroup && (touched.Contains(r.Id) || r.ScalingHeld)))
                    yield return farmRole;
            }
        }

        public void Take(IEnumerable<FarmRole> farmRoles, CancellationToken cancellation)
        {
            if (_groups == null) return;
            foreach (var farmRole in farmRoles)
            {
                var notes = _groups.Hold(farmRole, cancellation);
                _held.Add(farmRole);
                foreach (var note in notes) _reporter.Verbose(note);
            }
        }

        /// <summary>
        /// Puts every held group back. After a stop it waits for no lifecycle hook
        /// (<paramref name="timeout"/> zero) and runs on no cancellation: it is part of stopping cleanly.
        /// </summary>
        public void Release(TimeSpan timeout, CancellationToken cancellation, IRunbookReporter reporter)
        {
            if (_groups == null) return;
            foreach (var farmRole in _held)
            {
                try
                {
                    var release = _groups.Release(farmRole, timeout, cancellation);
                    if (release.Restored) reporter.Verbose(release.Note);
                    else reporter.Warning(release.Note);
                }
                catch (Exception e) when (!(e is OperationCanceledException) || !cancellation.CanBeCanceled)
                {
                    reporter.Warning($"Auto Scaling group {farmRole.ScalingGroup} of farm role {farmRole} could not be put back after the recycle: {e.Message} " +
                                     "It keeps its record (tag ttm:recycle); the next Invoke-TtmRecycle of the farm restores it.");
                }
            }
            _held.Clear();
        }
    }
}

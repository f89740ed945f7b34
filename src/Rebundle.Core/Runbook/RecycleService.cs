using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Runbook
{
    /// <summary>
    /// Runbook steps 4, 6 and 8: replace servers so they boot from their role's current image.
    /// Each replacement is launched first and the old server is terminated only once the new
    /// one runs, so a farm role never has fewer live servers than its count. Up to the batch
    /// size of replacements are in flight per farm, refilled as each finishes (RecycleWindow). A run that stops for any reason
    /// (a failed or timed-out replacement, a refused or failed backend call, Ctrl+C) terminates
    /// the replacements that are not yet serving in place of a terminated server, keeps the old
    /// servers, and touches nothing further: every farm role is left at its count.
    /// </summary>
    public sealed class RecycleService
    {
        public const int ProgressId = 42;
        private static readonly ServerStatus[] Live = { ServerStatus.Running, ServerStatus.Pending };
        private readonly Fleet _fleet;
        private readonly IRunbookReporter _reporter;

        public RecycleService(Fleet fleet, IRunbookReporter reporter)
        {
            _fleet = fleet;
            _reporter = reporter;
        }

        /// <summary>One plan per farm, in the scope's order; misses (unknown farms, aliases, gone servers) are returned, not thrown.</summary>
        public QueryResult<RecyclePlan> Plan(RecycleScope scope, int batchSize, CancellationToken cancellation = default) =>
            PlanUnderLease(scope, batchSize, _ => { }, cancellation);

        /// <summary>
        /// As <see cref="Plan(RecycleScope, int, CancellationToken)"/>, with the farms leased
        /// half-way: the scope is resolved from farms and farm roles, <paramref name="lease"/> is
        /// given its farms (all of them, in order), and only then are their servers read. Before
        /// the lease is held, live servers over a count may be another run's replacements in
        /// flight, not surplus; under it, nobody else launches or terminates there. One view
        /// (<see cref="ISharedListReads"/>): each list is read once, and the servers only under the lease.
        /// </summary>
        /// <param name="lease">Takes the lease on the farms (TtmFarmBusy when another run holds one); the plan is made once it returns.</param>
        public QueryResult<RecyclePlan> PlanUnderLease(RecycleScope scope, int batchSize, Action<IReadOnlyCollection<string>> lease, CancellationToken cancellation = default)
        {
            if (batchSize < 1)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"-BatchSize must be 1 or more; got {batchSize}.", batchSize);
            var backend = _fleet.Backend;
            using var shared = backend.Capability<ISharedListReads>()?.ReadEachListOnce();
            var planner = new RecyclePlanner(backend, _reporter);
            var targets = planner.Resolve(scope, cancellation);
            if (targets.FarmOrder.Count > 0) lease(targets.FarmOrder.ToList());
            return planner.Plan(targets, batchSize, cancellation);
        }

        /// <summary>Every farm role of <paramref name="farms"/> (or only <paramref name="aliases"/>).</summary>
        /// <param name="onlyServerIds">When resuming: recycle only these servers (those not yet replaced).</param>
        public QueryResult<RecyclePlan> Plan(IReadOnlyCollection<string> farms, IReadOnlyCollection<string>? aliases, int batchSize, IReadOnlyCollection<string>? onlyServerIds = null, CancellationToken cancellation = default) =>
            Plan(RecycleScope.Of(farms, aliases).OnlyServers(onlyServerIds), batchSize, cancellation);

        /// <summary>Replaces every server of one plan; see <see cref="Execute(IReadOnlyList{RecyclePlan}, RecycleOptions, CancellationToken, Action{RecycledServer})"/>.</summary>
        public IReadOnlyList<RecycledServer> Execute(RecyclePlan plan, TimeSpan timeout, CancellationToken cancellation, Action<RecycledServer>? replaced = null) =>
            Execute(new[] { plan }, new RecycleOptions { Timeout = timeout }, cancellation, replaced);

        /// <summary>
        /// Replaces every server of the plans, keeping up to each plan's batch size in flight per
        /// farm, then terminates the plans' leftover surplus. Farms go one after another in the
        /// order given, or side by side. Returns what was replaced; throws a
        /// <see cref="RecycleStoppedException"/> (carrying everything done, in every farm) at the
        /// first failure once what was in flight has finished, or the cancellation, after cleaning up.
        /// </summary>
        /// <param name="replaced">Told about each server as soon as it has been replaced (on the caller's thread).</param>
        public IReadOnlyList<RecycledServer> Execute(IReadOnlyList<RecyclePlan> plans, RecycleOptions options, CancellationToken cancellation, Action<RecycledServer>? replaced = null)
        {
            var done = new List<RecycledServer>();
            void Record(RecycledServer r)
            {
                done.Add(r);
                replaced?.Invoke(r);
            }
            try
            {
                if (options.SideBySide) Run(plans, options, cancellation, Record);
                else foreach (var plan in plans) Run(new[] { plan }, options, cancellation, Record);
            }
            catch (RecycleStoppedException stopped)
            {
                throw new RecycleStoppedException(done, (TtmException)stopped.InnerException!);
            }
            return done;
        }

        private void Run(IReadOnlyList<RecyclePlan> plans, RecycleOptions options, CancellationToken cancellation, Action<RecycledServer> replaced)
        {
            if (plans.Count == 0) return;
            var backend = _fleet.Backend;
            var farms = plans.Select(p => new FarmRecycle(p, p.FarmRoles.ToDictionary(r => r.Id, StringComparer.Ordinal))).ToList();
            // A target group that is missing (or may not be read) fails the recycle now, before a launch, not after.
            var replacing = new HashSet<string>(plans.SelectMany(p => p.Batches.SelectMany(b => b)).Select(s => s.FarmRoleId), StringComparer.Ordinal);
            new TargetGroupView(backend, cancellation).Read(farms.SelectMany(f => f.FarmRoles.Values).Where(r => replacing.Contains(r.Id)));
            var groups = new ScalingGroupHold(backend, _reporter);
            try
            {
                groups.Take(ScalingGroupHold.InPlay(plans), cancellation);
                new RecycleWindow(backend, _reporter, options, cancellation, replaced).Run(farms);
                // Every old in the plans now has a running replacement: the counts are met, so the rest
                // of the surplus can go (drained first from any target group an interrupted run left it in).
                foreach (var farm in farms)
                {
                    var cleanup = new LoadBalancedCleanup(backend, _reporter, cancellation);
                    var surplus = farm.Plan.Surplus.Where(s => s.Replaces == null).Select(s => s.Server).ToList();
                    TerminateSurplus(farm.Farm, farm.FarmRoles, cleanup.Release(farm.FarmRoles, surplus, options.Timeout, cancellation), countRunningOnly: true, "surplus", _reporter);
                }
            }
            catch (Exception stop)
            {
                foreach (var farm in farms)
                    TerminateQuietly(farm.Farm, farm.FarmRoles, farm.NotServing.Concat(farm.Plan.Surplus.Where(s => !farm.Adopted.Contains(s.Server.Id)).Select(s => s.Server)).ToList());
                // No wait for lifecycle hooks on the way out: a group still busy keeps its record for the next run.
                var notes = new HeldBackReporter();
                groups.Release(TimeSpan.Zero, CancellationToken.None, notes);
                notes.TryReplay(_reporter);
                if (stop is TtmException cause && !(stop is RecycleStoppedException)) throw new RecycleStoppedException(Array.Empty<RecycledServer>(), cause);
                throw;
            }
            groups.Release(options.Timeout, cancellation, _reporter);
            foreach (var farm in farms)
            {
                _reporter.Progress(new ProgressReport(ProgressId + 1 + farms.IndexOf(farm) * 2, $"Waiting for replacements in farm {farm.Farm}", "Done", 100, Completed: true));
                _reporter.Progress(new ProgressReport(ProgressId + farms.IndexOf(farm) * 2, $"Recycling farm {farm.Farm}", "Done", 100, Completed: true));
            }
        }

        internal static TtmException Broken(string farm, Server old, Server replacement, bool timedOut, TimeSpan timeout) => new TtmException(
            timedOut ? TtmErrorCode.ReplacementTimeout : TtmErrorCode.ReplacementFailed,
            timedOut
                ? $"Replacement {replacement.Name} ({replacement.Id}) for server {old.Name} of farm {farm} was not running within {timeout}. The recycle stopped; {old.Name} was kept and the replacement terminated. Raise -Timeout or look at the role's image, then run Invoke-TtmRecycle again."
                : $"Replacement {replacement.Name} ({replacement.Id}) for server {old.Name} of farm {farm} failed to boot. The recycle stopped; {old.Name} was kept. Check role {replacement.Role} and its image, then run Invoke-TtmRecycle again.",
            old.Name);

        // A stop must not hide its cause, and nothing may cut the cleanup short: what it has to say
        // is held back until every server is dealt with (a stopping PowerShell pipeline refuses
        // output), and a cleanup that fails is a warning naming what is left.
        private void TerminateQuietly(string farm, IReadOnlyDictionary<string, FarmRole> farmRoles, IReadOnlyCollection<Server> servers)
        {
            var notes = new HeldBackReporter();
            try
            {
                // Those still in a target group are deregistered and left to drain, never terminated registered.
                var free = new LoadBalancedCleanup(_fleet.Backend, notes, CancellationToken.None).Release(farmRoles, servers, drainTimeout: null, CancellationToken.None);
                TerminateSurplus(farm, farmRoles, free, countRunningOnly: false, "unused replacement", notes);
            }
            catch (Exception e)
            {
                notes.Warning($"The recycle of farm {farm} stopped and could not terminate its unused replacements: {e.Message} " +
                              "The next Invoke-TtmRecycle will find them as surplus and terminate them.");
            }
            notes.TryReplay(_reporter);
        }

        /// <summary>
        /// Terminates each server still alive, unless that would leave its farm role with fewer
        /// than its count of other servers (running ones only, with <paramref name="countRunningOnly"/>).
        /// Runs on no cancellation token: it is what makes a stop clean.
        /// </summary>
        private void TerminateSurplus(string farm, IReadOnlyDictionary<string, FarmRole> farmRoles, IEnumerable<Server> servers, bool countRunningOnly, string what, IRunbookReporter reporter)
        {
            var candidates = servers.GroupBy(s => s.Id).Select(g => g.First()).ToList();
            if (candidates.Count == 0) return;
            var now = _fleet.Backend.GetServers(new ServerQuery { Farms = new[] { farm } }).ToDictionary(s => s.Id, StringComparer.Ordinal);
            var terminated = new HashSet<string>(StringComparer.Ordinal);
            foreach (var candidate in candidates)
            {
                if (!now.TryGetValue(candidate.Id, out var server))
                {
                    // Surplus read at the plan and gone since is gone; a replacement launched moments
                    // ago may not be listed yet (eventual consistency) and is terminated all the same.
                    if (countRunningOnly) continue;
                    server = candidate;
                }
                if (server.Status == ServerStatus.Terminated || server.Status == ServerStatus.Terminating) continue;
                if (Live.Contains(server.Status) && farmRoles.TryGetValue(server.FarmRoleId, out var farmRole))
                {
                    var others = now.Values.Count(s => s.FarmRoleId == server.FarmRoleId && s.Id != server.Id && !terminated.Contains(s.Id) &&
                                                       (countRunningOnly ? s.Status == ServerStatus.Running : Live.Contains(s.Status)));
                    if (others < farmRole.DesiredCount)
                    {
                        reporter.Warning($"Kept {what} {server.Name} ({server.Id}) of {farm}/{server.Alias}: without it the farm role would have {others} of its {farmRole.DesiredCount} server(s).");
                        continue;
                    }
                }
                terminated.Add(server.Id);
            }
            var going = candidates.Where(c => terminated.Contains(c.Id)).ToList();
            _fleet.Backend.TerminateServers(going);
            foreach (var server in going) reporter.Verbose($"Terminated {what} {server.Name} ({server.Id}) of farm {farm}.");
        }
    }

    /// <summary>Holds reports back while a stop cleans up; replays them afterwards if the host still listens.</summary>
    internal sealed class HeldBackReporter : IRunbookReporter
    {
        private readonly List<Action<IRunbookReporter>> _held = new List<Action<IRunbookReporter>>();

        public void Progress(ProgressReport report) { }

        public void Verbose(string message) => _held.Add(r => r.Verbose(message));

        public void Warning(string message) => _held.Add(r => r.Warning(message));

        public void TryReplay(IRunbookReporter reporter)
        {
            try
            {
                foreach (var report in _held) report(reporter);
            }
            catch (Exception)
            {
                // The host is stopping (Ctrl+C) and takes no more output; the servers are dealt with.
            }
        }
    }

    /// <summary>A recycle that stopped part way: what was replaced before, and why it stopped.</summary>
    public sealed class RecycleStoppedException : TtmException
    {
        public RecycleStoppedException(IReadOnlyList<RecycledServer> completed, TtmException cause)
            : base(cause.Code, cause.Message, cause.Target, cause)
        {
            Completed = completed;
            BackendCode = cause.BackendCode;
        }

        public IReadOnlyList<RecycledServer> Completed { get; }
    }
}

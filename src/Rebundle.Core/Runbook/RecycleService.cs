using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Runbook
{
    /// <summary>
    /// Runbook steps 4, 6 and 8: replace servers so they boot from their role's current image.
    /// Each replacement is launched first and the old server is terminated only once the new
    /// one runs, so a farm role never has fewer live servers than its count. Batches run one
    /// after another; within a batch the waits run together. A run that stops for any reason
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
        public QueryResult<RecyclePlan> Plan(RecycleScope scope, int batchSize, CancellationToken cancellation = default)
        {
            if (batchSize < 1)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"-BatchSize must be 1 or more; got {batchSize}.", batchSize);
            return new RecyclePlanner(_fleet.Backend, _reporter).Plan(scope, batchSize, cancellation);
        }

        /// <summary>Every farm role of <paramref name="farms"/> (or only <paramref name="aliases"/>).</summary>
        /// <param name="onlyServerIds">When resuming: recycle only these servers (those not yet replaced).</param>
        public QueryResult<RecyclePlan> Plan(IReadOnlyCollection<string> farms, IReadOnlyCollection<string>? aliases, int batchSize, IReadOnlyCollection<string>? onlyServerIds = null, CancellationToken cancellation = default) =>
            Plan(RecycleScope.Of(farms, aliases).OnlyServers(onlyServerIds), batchSize, cancellation);

        /// <summary>
        /// Replaces every server of the plan, batch by batch, then terminates the plan's leftover
        /// surplus. Returns what was replaced; throws a <see cref="RecycleStoppedException"/>
        /// (carrying what was done) at the first failure, or the cancellation, after cleaning up.
        /// </summary>
        /// <param name="replaced">Told about each server as soon as it has been replaced.</param>
        public IReadOnlyList<RecycledServer> Execute(RecyclePlan plan, TimeSpan timeout, CancellationToken cancellation, Action<RecycledServer>? replaced = null)
        {
            var backend = _fleet.Backend;
            var farmRoles = backend.GetFarmRoles(new[] { plan.Farm }, cancellation).ToDictionary(r => r.Id, StringComparer.Ordinal);
            var spares = plan.Surplus.Where(s => s.Replaces != null).ToDictionary(s => s.Replaces!.Id, s => s.Server, StringComparer.Ordinal);
            var done = new List<RecycledServer>();
            // Replacements launched or adopted whose old server has not been terminated yet:
            // if the run stops, these are the surplus it would leave behind.
            var notServing = new List<Server>();
            var adopted = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                var batchNumber = 0;
                foreach (var batch in plan.Batches)
                {
                    batchNumber++;
                    _reporter.Progress(new ProgressReport(ProgressId, $"Recycling farm {plan.Farm}",
                        $"Batch {batchNumber} of {plan.Batches.Count}: launching replacements for {string.Join(", ", batch.Select(s => s.Name))}",
                        plan.ServerCount == 0 ? 0 : done.Count * 100 / plan.ServerCount));
                    var started = backend.Clock.UtcNow;
                    var replacements = new List<(Server old, Server replacement)>();
                    foreach (var old in batch)
                    {
                        cancellation.ThrowIfCancellationRequested();
                        if (!farmRoles.TryGetValue(old.FarmRoleId, out var farmRole))
                            throw new TtmException(TtmErrorCode.FarmRoleNotFound,
                                $"Server {old.Name} belongs to a farm role of {plan.Farm} that no longer exists; it was left alone.", old.Name);
                        var isSpare = spares.TryGetValue(old.Id, out var spare);
                        var replacement = isSpare ? spare! : backend.LaunchServer(farmRole, cancellation);
                        // Recorded before anything else can throw (even a report, when the host stops).
                        notServing.Add(replacement);
                        replacements.Add((old, replacement));
                        if (isSpare) adopted.Add(replacement.Id);
                        _reporter.Verbose(isSpare
                            ? $"Using surplus {replacement.Name} ({replacement.Id}), launched before an interruption, to replace {old.Name} ({old.Id})."
                            : $"Launched {replacement.Name} ({replacement.Id}) of {plan.Farm} from role {replacement.Role} to replace {old.Name} ({old.Id}).");
                    }

                    var result = new Waiter(backend.Clock, backend.PollInterval, _reporter, backend.Capability<IPollBackoff>()?.LongestPollInterval).WaitForAll(
                        ProgressId + 1, $"Waiting for replacements in farm {plan.Farm}", replacements.Select(r => r.replacement.Id).ToList(),
                        ids => backend.GetServers(new ServerQuery { Ids = ids, IncludeTerminated = true }, cancellation), s => s.Id,
                        s => s.Status == ServerStatus.Running ? WaitState.Done : s.Status == ServerStatus.Pending ? WaitState.Waiting : WaitState.Failed,
                        timeout, cancellation);

                    // Olds whose replacement runs can go; the rest stay, and broken replacements go instead (below).
                    var running = result.Done.ToDictionary(s => s.Id);
                    foreach (var (old, replacement) in replacements)
                    {
                        if (!running.TryGetValue(replacement.Id, out var now)) continue;
                        backend.TerminateServer(old, cancellation);
                        notServing.Remove(replacement);
                        var record = new RecycledServer
                        {
                            Farm = plan.Farm, Alias = old.Alias, OldServer = old.Name, OldId = old.Id, NewServer = now.Name, NewId = now.Id,
                            Role = now.Role, ImageId = now.ImageId, Duration = backend.Clock.UtcNow - started,
                        };
                        done.Add(record);
                        replaced?.Invoke(record);
                        _reporter.Verbose($"{now.Name} runs; terminated {old.Name} ({old.Id}).");
                    }

                    var broken = replacements.FirstOrDefault(r => !running.ContainsKey(r.replacement.Id));
                    if (broken.replacement != null)
                        throw Broken(plan, broken.old, broken.replacement, result.TimedOut.Contains(broken.replacement.Id), timeout);
                }

                // Every old in the plan now has a running replacement: the count is met, so the rest of the surplus can go.
                TerminateSurplus(plan.Farm, farmRoles, plan.Surplus.Where(s => s.Replaces == null).Select(s => s.Server), countRunningOnly: true, "surplus", _reporter);
            }
            catch (Exception stop)
            {
                var leftovers = notServing
                    .Concat(plan.Surplus.Where(s => !adopted.Contains(s.Server.Id)).Select(s => s.Server));
                TerminateQuietly(plan.Farm, farmRoles, leftovers);
                if (stop is TtmException cause && !(stop is RecycleStoppedException)) throw new RecycleStoppedException(done, cause);
                throw;
            }

            _reporter.Progress(new ProgressReport(ProgressId, $"Recycling farm {plan.Farm}", "Done", 100, Completed: true));
            return done;
        }

        private static TtmException Broken(RecyclePlan plan, Server old, Server replacement, bool timedOut, TimeSpan timeout) => new TtmException(
            timedOut ? TtmErrorCode.ReplacementTimeout : TtmErrorCode.ReplacementFailed,
            timedOut
                ? $"Replacement {replacement.Name} ({replacement.Id}) for server {old.Name} of farm {plan.Farm} was not running within {timeout}. The recycle stopped; {old.Name} was kept and the replacement terminated. Raise -Timeout or look at the role's image, then run Invoke-TtmRecycle again."
                : $"Replacement {replacement.Name} ({replacement.Id}) for server {old.Name} of farm {plan.Farm} failed to boot. The recycle stopped; {old.Name} was kept. Check role {replacement.Role} and its image, then run Invoke-TtmRecycle again.",
            old.Name);

        // A stop must not hide its cause, and nothing may cut the cleanup short: what it has to say
        // is held back until every server is dealt with (a stopping PowerShell pipeline refuses
        // output), and a cleanup that fails is a warning naming what is left.
        private void TerminateQuietly(string farm, IReadOnlyDictionary<string, FarmRole> farmRoles, IEnumerable<Server> servers)
        {
            var notes = new HeldBackReporter();
            try
            {
                TerminateSurplus(farm, farmRoles, servers, countRunningOnly: false, "unused replacement", notes);
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
                if (!now.TryGetValue(candidate.Id, out var server) || server.Status == ServerStatus.Terminated || server.Status == ServerStatus.Terminating) continue;
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
                _fleet.Backend.TerminateServer(server);
                terminated.Add(server.Id);
                reporter.Verbose($"Terminated {what} {server.Name} ({server.Id}) of farm {farm}.");
            }
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

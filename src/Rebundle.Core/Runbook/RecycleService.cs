using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Runbook
{
    /// <summary>The servers of one farm to replace, in batches of at most BatchSize.</summary>
    public sealed record RecyclePlan
    {
        public string Farm { get; init; } = "";

        public IReadOnlyList<IReadOnlyList<Server>> Batches { get; init; } = Array.Empty<IReadOnlyList<Server>>();

        public int ServerCount => Batches.Sum(b => b.Count);

        public string Description => $"Replace {ServerCount} server(s) of farm {Farm} in {Batches.Count} batch(es) of at most {(Batches.Count == 0 ? 0 : Batches.Max(b => b.Count))}: " +
                                     string.Join(", ", Batches.SelectMany(b => b).Select(s => s.Name));
    }

    /// <summary>One server replaced: the old one (now terminated) and the new one (running).</summary>
    public sealed record RecycledServer
    {
        public string Farm { get; init; } = "";

        public string Alias { get; init; } = "";

        public string OldServer { get; init; } = "";

        public string OldId { get; init; } = "";

        public string NewServer { get; init; } = "";

        public string NewId { get; init; } = "";

        public string Role { get; init; } = "";

        public string ImageId { get; init; } = "";

        public TimeSpan Duration { get; init; }
    }

    /// <summary>
    /// Runbook steps 4, 6 and 8: replace servers so they boot from their role's current image.
    /// Each replacement is launched first and the old server is terminated only once the new
    /// one runs, so a farm role never has fewer running servers than before. Batches run one
    /// after another; within a batch the waits run together. The first replacement that fails
    /// or times out stops the recycle: its old server stays, the failed replacement is
    /// terminated, and nothing further is touched.
    /// </summary>
    public sealed class RecycleService
    {
        public const int ProgressId = 42;
        private readonly Fleet _fleet;
        private readonly IRunbookReporter _reporter;

        public RecycleService(Fleet fleet, IRunbookReporter reporter)
        {
            _fleet = fleet;
            _reporter = reporter;
        }

        /// <summary>One plan per farm; misses (unknown farms or aliases) are returned, not thrown.</summary>
        /// <param name="onlyServerIds">When resuming: recycle only these servers (those not yet replaced).</param>
        public QueryResult<RecyclePlan> Plan(IReadOnlyCollection<string> farms, IReadOnlyCollection<string>? aliases, int batchSize, IReadOnlyCollection<string>? onlyServerIds = null)
        {
            if (batchSize < 1)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"-BatchSize must be 1 or more; got {batchSize}.", batchSize);
            var servers = _fleet.GetServers(farms, aliases, new[] { ServerStatus.Running, ServerStatus.Pending });
            var plans = servers.Items
                .Where(s => onlyServerIds == null || onlyServerIds.Contains(s.Id))
                .GroupBy(s => s.Farm, StringComparer.OrdinalIgnoreCase)
                .Select(g => new RecyclePlan
                {
                    Farm = g.Key,
                    Batches = g.Select((server, i) => (server, i)).GroupBy(x => x.i / batchSize)
                        .Select(b => (IReadOnlyList<Server>)b.Select(x => x.server).ToList()).ToList(),
                })
                .ToList();
            return new QueryResult<RecyclePlan>(plans, servers.Misses);
        }

        /// <summary>
        /// Replaces every server of the plan, batch by batch. Returns what was replaced; throws
        /// a <see cref="RecycleStoppedException"/> (carrying what was done) at the first failure.
        /// </summary>
        /// <param name="adoptOrphans">
        /// When resuming after a crash: a farm role with more live servers than it wants has
        /// replacements that were launched but never recorded; use them instead of launching more.
        /// </param>
        /// <param name="replaced">Told about each server as soon as it has been replaced.</param>
        public IReadOnlyList<RecycledServer> Execute(RecyclePlan plan, TimeSpan timeout, CancellationToken cancellation, bool adoptOrphans = false, Action<RecycledServer>? replaced = null)
        {
            var backend = _fleet.Backend;
            var farmRoles = backend.GetFarmRoles(new[] { plan.Farm }).ToDictionary(r => r.Id, StringComparer.Ordinal);
            var orphans = adoptOrphans ? FindOrphans(plan, farmRoles.Values) : new Dictionary<string, Queue<Server>>();
            var done = new List<RecycledServer>();
            var total = plan.ServerCount;
            var batchNumber = 0;
            foreach (var batch in plan.Batches)
            {
                batchNumber++;
                _reporter.Progress(new ProgressReport(ProgressId, $"Recycling farm {plan.Farm}",
                    $"Batch {batchNumber} of {plan.Batches.Count}: launching replacements for {string.Join(", ", batch.Select(s => s.Name))}",
                    total == 0 ? 0 : done.Count * 100 / total));
                var started = backend.Clock.UtcNow;
                var replacements = new List<(Server old, Server replacement)>();
                foreach (var old in batch)
                {
                    cancellation.ThrowIfCancellationRequested();
                    if (!farmRoles.TryGetValue(old.FarmRoleId, out var farmRole))
                        throw Stopped(done, new TtmException(TtmErrorCode.FarmRoleNotFound,
                            $"Server {old.Name} belongs to a farm role of {plan.Farm} that no longer exists; it was left alone.", old.Name));
                    Server replacement;
                    if (orphans.TryGetValue(farmRole.Id, out var spare) && spare.Count > 0)
                    {
                        replacement = spare.Dequeue();
                        _reporter.Verbose($"Adopted {replacement.Name} ({replacement.Id}), launched before the interruption, to replace {old.Name} ({old.Id}).");
                    }
                    else
                    {
                        replacement = backend.LaunchServer(farmRole);
                        _reporter.Verbose($"Launched {replacement.Name} ({replacement.Id}) of {plan.Farm} from role {replacement.Role} to replace {old.Name} ({old.Id}).");
                    }
                    replacements.Add((old, replacement));
                }

                var result = new Waiter(backend.Clock, backend.PollInterval, _reporter).WaitForAll(
                    ProgressId + 1, $"Waiting for replacements in farm {plan.Farm}", replacements.Select(r => r.replacement.Id).ToList(),
                    ids => backend.GetServers(new Backends.ServerQuery { Ids = ids, IncludeTerminated = true }), s => s.Id,
                    s => s.Status == ServerStatus.Running ? WaitState.Done : s.Status == ServerStatus.Pending ? WaitState.Waiting : WaitState.Failed,
                    timeout, cancellation);

                // Olds whose replacement runs can go; the rest stay, and broken replacements go instead.
                var running = result.Done.ToDictionary(s => s.Id);
                foreach (var (old, replacement) in replacements)
                {
                    if (!running.TryGetValue(replacement.Id, out var now)) continue;
                    backend.TerminateServer(old);
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
                {
                    foreach (var (_, replacement) in replacements.Where(r => !running.ContainsKey(r.replacement.Id)))
                        backend.TerminateServer(replacement);
                    var timedOut = result.TimedOut.Contains(broken.replacement.Id);
                    throw Stopped(done, new TtmException(
                        timedOut ? TtmErrorCode.ReplacementTimeout : TtmErrorCode.ReplacementFailed,
                        timedOut
                            ? $"Replacement {broken.replacement.Name} ({broken.replacement.Id}) for server {broken.old.Name} of farm {plan.Farm} was not running within {timeout}. The recycle stopped; {broken.old.Name} was kept and the replacement terminated. Raise -Timeout or look at the role's image, then run Invoke-TtmRecycle again."
                            : $"Replacement {broken.replacement.Name} ({broken.replacement.Id}) for server {broken.old.Name} of farm {plan.Farm} failed to boot. The recycle stopped; {broken.old.Name} was kept. Check role {broken.replacement.Role} and its image, then run Invoke-TtmRecycle again.",
                        broken.old.Name));
                }
            }

            _reporter.Progress(new ProgressReport(ProgressId, $"Recycling farm {plan.Farm}", "Done", 100, Completed: true));
            return done;
        }

        // Launch-first keeps a farm role at its desired count except while replacements are in
        // flight, so any live, healthy servers beyond it that are not being recycled are replacements
        // launched before an interruption.
        private Dictionary<string, Queue<Server>> FindOrphans(RecyclePlan plan, IEnumerable<FarmRole> farmRoles)
        {
            var olds = new HashSet<string>(plan.Batches.SelectMany(b => b).Select(s => s.Id), StringComparer.Ordinal);
            var live = _fleet.Backend.GetServers(new Backends.ServerQuery { Farms = new[] { plan.Farm } })
                .Where(s => s.Status == ServerStatus.Running || s.Status == ServerStatus.Pending).ToList();
            var orphans = new Dictionary<string, Queue<Server>>(StringComparer.Ordinal);
            foreach (var farmRole in farmRoles)
            {
                var mine = live.Where(s => s.FarmRoleId == farmRole.Id).ToList();
                var surplus = mine.Count - farmRole.DesiredCount;
                if (surplus <= 0) continue;
                orphans[farmRole.Id] = new Queue<Server>(mine.Where(s => !olds.Contains(s.Id)).OrderByDescending(s => s.LaunchedAt).Take(surplus));
            }
            return orphans;
        }

        private static RecycleStoppedException Stopped(IReadOnlyList<RecycledServer> done, TtmException cause) => new RecycleStoppedException(done, cause);
    }

    /// <summary>A recycle that stopped part way: what was replaced before, and why it stopped.</summary>
    public sealed class RecycleStoppedException : TtmException
    {
        public RecycleStoppedException(IReadOnlyList<RecycledServer> completed, TtmException cause)
            : base(cause.Code, cause.Message, cause.Target, cause)
        {
            Completed = completed;
        }

        public IReadOnlyList<RecycledServer> Completed { get; }
    }
}

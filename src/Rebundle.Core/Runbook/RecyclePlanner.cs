using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Naming;

namespace Rebundle.Runbook
{
    /// <summary>
    /// What a recycle's scope comes to before any server is looked at: the farms in the order
    /// they were asked for (what the lease is taken on), the farm roles of those farms and which
    /// of them are recycled whole, and the servers named one by one. Read from farms and farm
    /// roles only, so it is the same before and after the lease: no run changes a farm's farm
    /// roles without holding that farm's lease, which a recycle takes next.
    /// </summary>
    internal sealed class RecycleTargets
    {
        public RecycleScope Scope { get; init; } = new RecycleScope();

        public List<string> FarmOrder { get; } = new List<string>();

        /// <summary>Every farm role of the farms in <see cref="FarmOrder"/>.</summary>
        public List<FarmRole> FarmRoles { get; } = new List<FarmRole>();

        /// <summary>Farm roles recycled whole (a farm, or an alias of one).</summary>
        public HashSet<string> WholeFarmRoles { get; } = new HashSet<string>(StringComparer.Ordinal);

        /// <summary>Farm roles named by an alias without wildcards: refused rather than skipped (Auto Scaling).</summary>
        public HashSet<string> NamedFarmRoles { get; } = new HashSet<string>(StringComparer.Ordinal);

        public List<Server> NamedServers { get; } = new List<Server>();
    }

    /// <summary>
    /// Turns a <see cref="RecycleScope"/> into one plan per farm, in the order the farms were
    /// asked for, and reconciles every farm role in scope against its count: a farm role with
    /// more live servers than it wants has surplus from an interrupted run, which the plan uses
    /// or terminates instead of replacing. In two halves, so a recycle can take its lease in
    /// between: <see cref="Resolve"/> reads farms and farm roles (which farms to lease), and
    /// <see cref="Plan"/> reads the farms' servers once (what can have changed until the lease
    /// was held) and, only when a farm role has surplus, the roles (whose image it is on).
    /// </summary>
    internal sealed class RecyclePlanner
    {
        private static readonly ServerStatus[] Live = { ServerStatus.Running, ServerStatus.Pending };
        private readonly IFleetBackend _backend;
        private readonly IRunbookReporter _reporter;
        private readonly List<TtmException> _misses = new List<TtmException>();

        public RecyclePlanner(IFleetBackend backend, IRunbookReporter reporter)
        {
            _backend = backend;
            _reporter = reporter;
        }

        /// <summary>The farms, farm roles and servers the scope names; unknown farms and aliases are kept as misses.</summary>
        public RecycleTargets Resolve(RecycleScope scope, CancellationToken cancellation = default)
        {
            var farms = _backend.GetFarms(cancellation);
            var farmRoles = _backend.GetFarmRoles(null, cancellation);
            var targets = new RecycleTargets { Scope = scope };
            foreach (var target in scope.Targets)
            {
                if (target.Server != null)
                {
                    targets.NamedServers.Add(target.Server);
                    AddOnce(targets.FarmOrder, target.Server.Farm);
                    continue;
                }
                var matched = MatchFarms(target.Farms, farms);
                var candidates = farmRoles.Where(r => matched.Contains(r.Farm, StringComparer.OrdinalIgnoreCase)).ToList();
                ReportMissingAliases(target.Aliases, matched, candidates);
                foreach (var farmRole in candidates.Where(r => NameMatcher.MatchesAny(r.Alias, target.Aliases)))
                {
                    targets.WholeFarmRoles.Add(farmRole.Id);
                    if (target.Aliases != null && target.Aliases.Any(a => !NameMatcher.HasWildcard(a) && string.Equals(a, farmRole.Alias, StringComparison.OrdinalIgnoreCase)))
                        targets.NamedFarmRoles.Add(farmRole.Id);
                }
                foreach (var farm in matched) AddOnce(targets.FarmOrder, farm);
            }
            targets.FarmRoles.AddRange(farmRoles.Where(r => targets.FarmOrder.Contains(r.Farm, StringComparer.OrdinalIgnoreCase)));
            return targets;
        }

        /// <summary>One plan per farm of <paramref name="targets"/> from its servers as they are now; misses include those of <see cref="Resolve"/>.</summary>
        public QueryResult<RecyclePlan> Plan(RecycleTargets targets, int batchSize, CancellationToken cancellation = default)
        {
            if (targets.FarmOrder.Count == 0) return new QueryResult<RecyclePlan>(Array.Empty<RecyclePlan>(), Misses());
            var scope = targets.Scope;
            var farmRoles = targets.FarmRoles;
            // Copies: the Auto Scaling rule takes managed farm roles out of this plan only.
            var wholeFarmRoles = new HashSet<string>(targets.WholeFarmRoles, StringComparer.Ordinal);
            var namedServers = targets.NamedServers.ToList();

            var live = _backend.GetServers(new ServerQuery { Farms = targets.FarmOrder, Statuses = Live }, cancellation).Where(s => Live.Contains(s.Status)).ToList();
            var liveIds = new HashSet<string>(live.Select(s => s.Id), StringComparer.Ordinal);
            foreach (var gone in namedServers.Where(s => !liveIds.Contains(s.Id)))
                _misses.Add(new TtmException(TtmErrorCode.ServerNotFound,
                    $"Server {gone.Farm}/{gone.Name} ({gone.Id}) is no longer running or pending, so it was not recycled. Run Get-TtmServer to see the farm as it is now.", gone.Name));
            AutoScalingScope.Exclude(live, farmRoles, wholeFarmRoles, targets.NamedFarmRoles, namedServers, _reporter);
            var namedIds = new HashSet<string>(namedServers.Select(s => s.Id), StringComparer.Ordinal);
            // Which image a role is on matters only to surplus (is it already on the current image?):
            // the roles are read once, and only when some farm role has more live servers than its count.
            Dictionary<string, string>? imageOfRole = null;
            string? CurrentImage(string role)
            {
                imageOfRole ??= _backend.GetRoles(cancellation).GroupBy(r => r.Name, StringComparer.OrdinalIgnoreCase)
                    .ToDictionary(g => g.Key, g => g.First().ImageId, StringComparer.OrdinalIgnoreCase);
                return imageOfRole.TryGetValue(role, out var image) ? image : null;
            }

            var plans = new List<RecyclePlan>();
            foreach (var farm in targets.FarmOrder)
            {
                var here = live.Where(s => string.Equals(s.Farm, farm, StringComparison.OrdinalIgnoreCase)).ToList();
                var olds = here.Where(s => (wholeFarmRoles.Contains(s.FarmRoleId) || namedIds.Contains(s.Id))
                                           && (scope.OnlyServerIds == null || scope.OnlyServerIds.Contains(s.Id))).ToList();
                var inScope = farmRoles.Where(r => string.Equals(r.Farm, farm, StringComparison.OrdinalIgnoreCase)
                                                   && (wholeFarmRoles.Contains(r.Id) || olds.Any(o => o.FarmRoleId == r.Id))).ToList();
                var surplus = new List<SurplusServer>();
                foreach (var farmRole in inScope)
                {
                    var ownLive = here.Where(s => s.FarmRoleId == farmRole.Id).ToList();
                    if (ownLive.Count > farmRole.DesiredCount)
                        surplus.AddRange(Reconcile(farmRole, ownLive, olds, CurrentImage(farmRole.Role)));
                }
                var surplusIds = new HashSet<string>(surplus.Select(s => s.Server.Id), StringComparer.Ordinal);
                var ordered = olds.Where(s => !surplusIds.Contains(s.Id))
                    .OrderBy(s => s.Alias, StringComparer.OrdinalIgnoreCase).ThenBy(s => s.Index).ToList();
                // A group an interrupted run left held is planned with nothing to do, so this run restores it.
                if (ordered.Count == 0 && surplus.Count == 0 && !inScope.Any(r => r.ScalingHeld)) continue;
                plans.Add(new RecyclePlan
                {
                    Farm = here.FirstOrDefault()?.Farm ?? farm,
                    Batches = ordered.Select((server, i) => (server, i)).GroupBy(x => x.i / batchSize)
                        .Select(b => (IReadOnlyList<Server>)b.Select(x => x.server).ToList()).ToList(),
                    Surplus = surplus,
                    BatchSize = batchSize,
                    FarmRoles = farmRoles.Where(r => string.Equals(r.Farm, farm, StringComparison.OrdinalIgnoreCase)).ToList(),
                });
            }
            return new QueryResult<RecyclePlan>(plans, Misses());
        }

        /// <summary>
        /// Launch-first keeps a farm role at its count except while replacements are in flight,
        /// so live servers beyond the count are replacements (or respawns) left by a run that
        /// stopped. The newest of them are the surplus: not replaced themselves; those already on
        /// the role's current image (and with their index) stand in for old servers; the rest are
        /// terminated at the end.
        /// </summary>
        private IEnumerable<SurplusServer> Reconcile(FarmRole farmRole, IReadOnlyList<Server> live, IReadOnlyList<Server> olds, string? currentImage)
        {
            var excess = live.Count - farmRole.DesiredCount;
            if (excess <= 0) return Array.Empty<SurplusServer>();
            var newest = live.OrderByDescending(s => s.LaunchedAt ?? DateTimeOffset.MinValue).ThenByDescending(s => s.Index).Take(excess).ToList();
            var waiting = new Queue<Server>(olds.Where(o => o.FarmRoleId == farmRole.Id && !newest.Contains(o))
                .OrderBy(s => s.Index));
            // One whose launch was cut short before it got its index (AWS tags it after the launch)
            // would serve as Name.0 for good: it is trimmed, and a fresh launch takes its place.
            var spares = newest.Where(s => !string.IsNullOrEmpty(currentImage) && s.ImageId == currentImage && s.Index > 0)
                .OrderBy(s => s.Status == ServerStatus.Running ? 0 : 1).ToList();
            var result = newest.Select(s => new SurplusServer
            {
                Server = s,
                Replaces = spares.Contains(s) && waiting.Count > 0 ? waiting.Dequeue() : null,
            }).ToList();

            var uses = result.Where(s => s.Replaces != null).Select(s => $"{s.Server.Name} stands in for {s.Replaces!.Name}").ToList();
            var trims = result.Where(s => s.Replaces == null).Select(s => s.Server.Name).ToList();
            _reporter.Warning($"Farm role {farmRole.Farm}/{farmRole.Alias} has {live.Count} live servers for a count of {farmRole.DesiredCount}: " +
                              $"{string.Join(", ", newest.Select(s => s.Name))} left by an interrupted run." +
                              (uses.Count > 0 ? $" {string.Join("; ", uses)} instead of a new launch." : "") +
                              (trims.Count > 0 ? $" {string.Join(", ", trims)} will be terminated once the farm role has {farmRole.DesiredCount} running." : ""));
            return result;
        }

        private List<string> MatchFarms(IReadOnlyList<string> patterns, IReadOnlyList<Farm> farms)
        {
            var matched = new List<string>();
            foreach (var pattern in patterns)
            {
                if (NameMatcher.HasWildcard(pattern))
                {
                    foreach (var farm in farms.Where(f => NameMatcher.IsMatch(f.Name, pattern)).OrderBy(f => f.Name, StringComparer.OrdinalIgnoreCase))
                        AddOnce(matched, farm.Name);
                    continue;
                }
                try
                {
                    AddOnce(matched, Fleet.FindFarm(pattern, farms));
                }
                catch (TtmException miss)
                {
                    _misses.Add(miss);
                }
            }
            return matched;
        }

        private void ReportMissingAliases(IReadOnlyCollection<string>? aliases, IReadOnlyList<string> farms, IReadOnlyList<FarmRole> candidates)
        {
            if (aliases == null || farms.Count == 0) return;
            var known = candidates.Select(r => r.Alias).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            foreach (var alias in aliases.Where(a => !NameMatcher.HasWildcard(a) && !known.Contains(a, StringComparer.OrdinalIgnoreCase)))
                _misses.Add(new TtmException(TtmErrorCode.FarmRoleNotFound,
                    $"No farm role is aliased '{alias}' in farm {string.Join(", ", farms)}." + NameMatcher.SuggestionText(alias, known) +
                    $" Run Get-TtmFarmRole -Farm {farms[0]} to list them.", alias));
        }

        // The same name typed twice is one miss, not two.
        private IReadOnlyList<TtmException> Misses() => _misses.GroupBy(m => m.Message).Select(g => g.First()).ToList();

        private static void AddOnce(List<string> names, string name)
        {
            if (!names.Contains(name, StringComparer.OrdinalIgnoreCase)) names.Add(name);
        }
    }
}

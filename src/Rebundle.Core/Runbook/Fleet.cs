using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Naming;
using Rebundle.Safety;

namespace Rebundle.Runbook
{
    /// <summary>
    /// A connected fleet: one backend and the name tables, plus the reads every cmdlet
    /// shares (with name validation and suggestions). What <c>Connect-TtmFleet</c> returns
    /// wraps one of these.
    /// </summary>
    public sealed class Fleet : IDisposable
    {
        /// <param name="guard">The guard the backend's changes pass (the audit's), for cmdlets to put their approver in scope.</param>
        /// <param name="changeLeases">The leases the backend's changes hold (the audit's), for cmdlets to put their command's scope in use.</param>
        public Fleet(IFleetBackend backend, NameTables? names = null, IFarmLeases? leases = null, ChangeGuard? guard = null, ChangeLeases? changeLeases = null)
        {
            Backend = backend;
            Names = names ?? NameTables.Default;
            Leases = leases ?? NoLeases.Instance;
            Guard = guard ?? ChangeGuard.None;
            ChangeLeases = changeLeases ?? new ChangeLeases(Leases);
        }

        /// <summary>
        /// The fleet as Connect-TtmFleet makes it: every change of <paramref name="backend"/> passes
        /// <paramref name="guard"/>, holds its farms' leases and is written to <paramref name="audit"/>
        /// ahead; the fleet hands the same guard and leases to the cmdlets.
        /// </summary>
        public static Fleet Audited(IFleetBackend backend, Audit.IAuditSink audit, string user, NameTables? names = null, ChangeGuard? guard = null, IFarmLeases? leases = null)
        {
            var farmLeases = leases ?? NoLeases.Instance;
            var changeLeases = new ChangeLeases(farmLeases);
            var theGuard = guard ?? ChangeGuard.None;
            return new Fleet(new Audit.AuditingBackend(backend, audit, user, theGuard, changeLeases), names, farmLeases, theGuard, changeLeases);
        }

        public IFleetBackend Backend { get; }

        /// <summary>Decides whether a change to a protected farm was approved; cmdlets put their approver in scope.</summary>
        public ChangeGuard Guard { get; }

        /// <summary>Leases on farms and locks on journals, so two runs never change one farm at once.</summary>
        public IFarmLeases Leases { get; }

        /// <summary>The leases changes hold on the farms they touch; cmdlets put their command's scope in use.</summary>
        public ChangeLeases ChangeLeases { get; }

        public NameTables Names { get; }

        public RoleCatalog Roles(CancellationToken cancellation = default) => new RoleCatalog(Backend.GetRoles(cancellation));

        public QueryResult<Farm> GetFarms(IReadOnlyCollection<string>? names, CancellationToken cancellation = default)
        {
            var farms = Backend.GetFarms(cancellation);
            var misses = MissesFor(names, farms.Select(f => f.Name).ToList(), FarmNotFound);
            var items = farms.Where(f => NameMatcher.MatchesAny(f.Name, names)).OrderBy(f => f.Name, StringComparer.OrdinalIgnoreCase).ToList();
            return new QueryResult<Farm>(items, misses);
        }

        /// <summary>The farm's exact name, or a <see cref="TtmErrorCode.FarmNotFound"/> error with suggestions.</summary>
        public string RequireFarm(string name, CancellationToken cancellation = default) => FindFarm(name, Backend.GetFarms(cancellation));

        /// <summary>As <see cref="RequireFarm"/>, on farms already read.</summary>
        public static string FindFarm(string name, IReadOnlyList<Farm> farms)
        {
            var known = farms.Select(f => f.Name).ToList();
            return known.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase)) ?? throw FarmNotFound(name, known);
        }

        public QueryResult<FarmRole> GetFarmRoles(IReadOnlyCollection<string>? farms, IReadOnlyCollection<string>? aliases, CancellationToken cancellation = default)
        {
            var misses = new List<TtmException>();
            IReadOnlyCollection<string>? exactFarms = null;
            if (farms != null && farms.Count > 0)
            {
                var farmResult = GetFarms(farms, cancellation);
                misses.AddRange(farmResult.Misses);
                exactFarms = farmResult.Items.Select(f => f.Name).ToList();
                if (exactFarms.Count == 0) return new QueryResult<FarmRole>(Array.Empty<FarmRole>(), misses);
            }

            var all = Backend.GetFarmRoles(exactFarms, cancellation);
            misses.AddRange(MissesFor(aliases, all.Select(r => r.Alias).ToList(), (alias, known) => new TtmException(
                TtmErrorCode.FarmRoleNotFound,
                $"No farm role is aliased '{alias}'" + (exactFarms == null ? "." : $" in farm {string.Join(", ", exactFarms)}.") + NameMatcher.SuggestionText(alias, known), alias)));
            var items = all
                .Where(r => NameMatcher.MatchesAny(r.Alias, aliases))
                .Select(r => r with { ChefRole = r.ChefRole ?? Names.ChefRoleFor(r.Alias) })
                .OrderBy(r => r.Farm, StringComparer.OrdinalIgnoreCase).ThenBy(r => r.Alias, StringComparer.OrdinalIgnoreCase)
                .ToList();
            return new QueryResult<FarmRole>(items, misses);
        }

        /// <summary>The farm role aliased <paramref name="alias"/> in <paramref name="farm"/>, or an error with suggestions.</summary>
        public FarmRole RequireFarmRole(string farm, string alias, CancellationToken cancellation = default)
        {
            var exactFarm = RequireFarm(farm, cancellation);
            return FindFarmRole(exactFarm, alias, Backend.GetFarmRoles(new[] { exactFarm }, cancellation));
        }

        /// <summary>As <see cref="RequireFarmRole"/>, on farm roles already read (of any farms).</summary>
        public static FarmRole FindFarmRole(string exactFarm, string alias, IEnumerable<FarmRole> farmRoles)
        {
            var roles = farmRoles.Where(r => string.Equals(r.Farm, exactFarm, StringComparison.OrdinalIgnoreCase)).ToList();
            return roles.FirstOrDefault(r => string.Equals(r.Alias, alias, StringComparison.OrdinalIgnoreCase))
                ?? throw new TtmException(TtmErrorCode.FarmRoleNotFound,
                    $"Farm '{exactFarm}' has no farm role aliased '{alias}'." + NameMatcher.SuggestionText(alias, roles.Select(r => r.Alias).ToList()) +
                    $" Run Get-TtmFarmRole -Farm {exactFarm} to list them.", alias);
        }

        /// <summary>
        /// Servers of the given farms and farm-role aliases (wildcards allowed). Without
        /// <paramref name="statuses"/>, only live ones: servers shutting down or gone are left out.
        /// </summary>
        public QueryResult<Server> GetServers(IReadOnlyCollection<string>? farms, IReadOnlyCollection<string>? aliases, IReadOnlyCollection<ServerStatus>? statuses, CancellationToken cancellation = default)
        {
            var farmRoles = GetFarmRoles(farms, aliases, cancellation);
            if (farmRoles.Misses.Count > 0 && farmRoles.Items.Count == 0)
                return new QueryResult<Server>(Array.Empty<Server>(), farmRoles.Misses);

            // Push exact names down to the backend; keep wildcards for the filter below.
            var query = new ServerQuery
            {
                Farms = farms == null || farms.Count == 0 ? null : farmRoles.Items.Select(r => r.Farm).Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
                Aliases = aliases == null || aliases.Count == 0 ? null : farmRoles.Items.Select(r => r.Alias).Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
                Statuses = statuses,
                IncludeTerminated = statuses != null && statuses.Contains(ServerStatus.Terminated),
            };
            var servers = Backend.GetServers(query, cancellation)
                .Where(s => NameMatcher.MatchesAny(s.Farm, farms) && NameMatcher.MatchesAny(s.Alias, aliases))
                .Where(s => statuses == null || statuses.Count == 0 ? IsLive(s.Status) : statuses.Contains(s.Status))
                .OrderBy(s => s.Farm, StringComparer.OrdinalIgnoreCase).ThenBy(s => s.Alias, StringComparer.OrdinalIgnoreCase).ThenBy(s => s.Index)
                .ToList();
            return new QueryResult<Server>(servers, farmRoles.Misses);
        }

        /// <summary>The next version for a role's base name (<c>1-0</c> when it has none).</summary>
        public RoleVersion NextVersion(string roleName, bool major) => Roles().NextVersion(RoleName.BaseOf(roleName), major);

        /// <summary>Farms (protected ones flagged by the name tables) whose farm roles run <paramref name="roleName"/>.</summary>
        public IReadOnlyList<string> FarmsRunning(string roleName, CancellationToken cancellation = default) =>
            FarmsRunning(roleName, Backend.GetFarmRoles(null, cancellation));

        /// <summary>As <see cref="FarmsRunning(string, CancellationToken)"/>, on farm roles already read.</summary>
        public static IReadOnlyList<string> FarmsRunning(string roleName, IEnumerable<FarmRole> farmRoles) => farmRoles
            .Where(r => string.Equals(r.Role, roleName, StringComparison.OrdinalIgnoreCase))
            .Select(r => r.Farm).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

        public void Dispose() => Backend.Dispose();

        private static bool IsLive(ServerStatus status) => status != ServerStatus.Terminated && status != ServerStatus.Terminating;

        private static TtmException FarmNotFound(string name, IReadOnlyCollection<string> known) => new TtmException(
            TtmErrorCode.FarmNotFound,
            $"There is no farm named '{name}'." + NameMatcher.SuggestionText(name, known) + " Run Get-TtmFarm to list farms.", name);

        private static List<TtmException> MissesFor(IReadOnlyCollection<string>? wanted, IReadOnlyCollection<string> known, Func<string, IReadOnlyCollection<string>, TtmException> miss) =>
            (wanted ?? Array.Empty<string>())
                .Where(w => !NameMatcher.HasWildcard(w) && !known.Any(k => string.Equals(k, w, StringComparison.OrdinalIgnoreCase)))
                .Select(w => miss(w, known))
                .ToList();
    }
}

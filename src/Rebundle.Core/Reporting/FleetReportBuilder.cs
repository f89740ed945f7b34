using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Rebundling;
using Rebundle.Runbook;

namespace Rebundle.Reporting
{
    /// <summary>
    /// Builds the <see cref="FleetReport"/> from one read of each list: farm roles, roles, live
    /// servers, and the images of all of them in one GetImages call. So its cost is the number of
    /// pages of those lists on every backend, never a call per farm, role or server. Farms are not
    /// read: every row names its farm, and a farm without farm roles has nothing to report.
    /// </summary>
    public sealed class FleetReportBuilder
    {
        private readonly Fleet _fleet;

        public FleetReportBuilder(Fleet fleet) => _fleet = fleet;

        /// <param name="undo">What recent rebundles' undo needs (from their journals): kept, as Remove-TtmRoleVersion keeps it.</param>
        public FleetReport Build(IReadOnlyList<UndoNeeds>? undo = null)
        {
            var backend = _fleet.Backend;
            // One view: where a backend's reads share lists (Scalr's servers read farm roles), read each once.
            using var shared = backend.Capability<ISharedListReads>()?.ReadEachListOnce();
            var farmRoles = backend.GetFarmRoles();
            var catalog = new RoleCatalog(backend.GetRoles());
            var servers = backend.GetServers(ServerQuery.All)
                .Where(s => s.Status != ServerStatus.Terminated && s.Status != ServerStatus.Terminating).ToList();
            var imageIds = catalog.All.Select(r => r.ImageId).Concat(servers.Select(s => s.ImageId))
                .Where(id => !string.IsNullOrEmpty(id)).Distinct(StringComparer.Ordinal).ToList();
            var images = backend.GetImages(imageIds).GroupBy(i => i.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            var now = backend.Clock.UtcNow;

            int? AgeOf(string? imageId) =>
                imageId != null && images.TryGetValue(imageId, out var image) && image.CreatedAt is DateTimeOffset created
                    ? (int)Math.Floor((now - created).TotalDays) : (int?)null;

            var serving = ServingCounts(backend, farmRoles, servers);
            var rows = farmRoles
                .OrderBy(r => r.Farm, StringComparer.OrdinalIgnoreCase).ThenBy(r => r.Alias, StringComparer.OrdinalIgnoreCase)
                .Select(r => FarmRoleRow(r, catalog, servers, AgeOf) with
                {
                    TargetGroups = r.TargetGroups,
                    Healthy = serving.healthy.TryGetValue(r.Id, out var healthy) ? healthy : (int?)null,
                    HealthUnknown = r.IsLoadBalanced ? serving.unknown : null,
                })
                .ToList();
            rows = MarkPendingPromotions(rows, catalog);
            return new FleetReport(now, backend.Kind.ToString(), backend.Location, rows, RoleVersionRows(catalog, farmRoles, images, undo, AgeOf));
        }

        /// <summary>
        /// Servers healthy in every target group, per load-balanced farm role: one read of each
        /// target group. A report is still worth having when the load balancer cannot be read
        /// (no permission): the counts are then unknown, and the reason says why.
        /// </summary>
        private static (Dictionary<string, int> healthy, string? unknown) ServingCounts(IFleetBackend backend, IReadOnlyList<FarmRole> farmRoles, IReadOnlyList<Server> servers)
        {
            var healthy = new Dictionary<string, int>(StringComparer.Ordinal);
            var balancing = backend.Capability<ILoadBalancing>();
            var balanced = farmRoles.Where(r => r.IsLoadBalanced).ToList();
            if (balancing == null || balanced.Count == 0) return (healthy, null);
            var view = new TargetGroupView(backend, CancellationToken.None);
            try
            {
                view.Read(balanced);
            }
            catch (Errors.TtmException e)
            {
                return (healthy, e.Message);
            }
            foreach (var farmRole in balanced)
                healthy[farmRole.Id] = view.HealthyCount(farmRole, servers.Where(s => s.FarmRoleId == farmRole.Id && s.Status == ServerStatus.Running).Select(s => s.Id));
            return (healthy, null);
        }

        private static FarmRoleReport FarmRoleRow(FarmRole farmRole, RoleCatalog catalog, IReadOnlyList<Server> servers, Func<string?, int?> ageOf)
        {
            var role = catalog.Find(farmRole.Role);
            var own = servers.Where(s => string.Equals(s.Farm, farmRole.Farm, StringComparison.OrdinalIgnoreCase)
                && string.Equals(s.Alias, farmRole.Alias, StringComparison.OrdinalIgnoreCase)).ToList();
            var latest = role == null ? null : catalog.LatestOf(role.BaseName);
            var version = role == null ? null : VersionOf(role, catalog);
            return new FarmRoleReport
            {
                Farm = farmRole.Farm,
                Alias = farmRole.Alias,
                Role = farmRole.Role,
                Version = version?.ToString(),
                ImageId = role?.ImageId,
                ImageAgeDays = ageOf(role?.ImageId),
                Wanted = farmRole.DesiredCount,
                Running = own.Count(s => s.Status == ServerStatus.Running),
                DriftedServers = role == null ? Array.Empty<string>()
                    : own.Where(s => !string.Equals(s.ImageId, role.ImageId, StringComparison.Ordinal)).OrderBy(s => s.Index).Select(s => s.Name).ToList(),
                LatestVersion = latest?.Version?.ToString(),
                IsLatest = latest == null || (version != null && version.Equals(latest.Version)),
            };
        }

        /// <summary>A versioned role's own version; for a production role, the newest version whose image it carries.</summary>
        private static RoleVersion? VersionOf(Role role, RoleCatalog catalog) => role.IsVersioned
            ? role.Version
            : catalog.VersionsOf(role.BaseName).LastOrDefault(v => string.Equals(v.ImageId, role.ImageId, StringComparison.Ordinal))?.Version;

        /// <summary>Marks every row of a base name whose test-farm version is newer than the production role's image's version.</summary>
        private List<FarmRoleReport> MarkPendingPromotions(List<FarmRoleReport> rows, RoleCatalog catalog)
        {
            var pending = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var row in rows.Where(r => string.Equals(r.Farm, _fleet.Names.TestFarm, StringComparison.OrdinalIgnoreCase)))
            {
                var role = catalog.Find(row.Role);
                if (role == null || row.Version == null) continue;
                var production = catalog.Find(role.BaseName);
                var promoted = production == null ? null : VersionOf(production, catalog);
                var tried = RoleVersion.Parse(row.Version);
                if (promoted == null || tried > promoted) pending[role.BaseName] = row.Version;
            }
            return rows.Select(r =>
            {
                var role = catalog.Find(r.Role);
                return role != null && pending.TryGetValue(role.BaseName, out var version) ? r with { PendingPromotion = version } : r;
            }).ToList();
        }

        private static IReadOnlyList<RoleVersionReport> RoleVersionRows(
            RoleCatalog catalog, IReadOnlyList<FarmRole> farmRoles, IReadOnlyDictionary<string, Image> images,
            IReadOnlyList<UndoNeeds>? undo, Func<string?, int?> ageOf)
        {
            // The retirement rule itself, with the least any retirement keeps (-KeepLatest 1).
            var (retire, kept) = RoleRetirementService.Plan(catalog, farmRoles, 1, null, undo);
            return catalog.All.Where(r => r.IsVersioned)
                .OrderBy(r => r.BaseName, StringComparer.OrdinalIgnoreCase).ThenBy(r => r.Version)
                .Select(role =>
                {
                    var isLatest = catalog.LatestOf(role.BaseName) == role;
                    var keptBecause = kept.FirstOrDefault(k => k.Role == role)?.Reason
                        ?? (isLatest ? "the newest version of " + role.BaseName : null);
                    return new RoleVersionReport
                    {
                        Role = role.Name,
                        BaseName = role.BaseName,
                        Version = role.Version!.ToString(),
                        ImageId = role.ImageId,
                        ImageCreatedAt = images.TryGetValue(role.ImageId, out var image) ? image.CreatedAt : null,
                        ImageAgeDays = ageOf(role.ImageId),
                        Farms = farmRoles.Where(f => string.Equals(f.Role, role.Name, StringComparison.OrdinalIgnoreCase))
                            .Select(f => f.Farm).Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(f => f, StringComparer.OrdinalIgnoreCase).ToList(),
                        CarriedBy = catalog.All.Where(r => !r.IsVersioned && string.Equals(r.ImageId, role.ImageId, StringComparison.Ordinal))
                            .Select(r => r.Name).ToList(),
                        IsLatest = isLatest,
                        SafeToRetire = retire.Any(r => r.Role == role),
                        KeptBecause = retire.Any(r => r.Role == role) ? null : keptBecause,
                    };
                })
                .ToList();
        }
    }
}

using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Naming;
using Rebundle.Runbook;

namespace Rebundle.Rebundling
{
    /// <summary>A versioned role to retire, and whether its image goes with it.</summary>
    public sealed record RoleRetirement(Role Role, bool DeleteImage, string Description);

    /// <summary>A versioned role kept back, and why; <see cref="Journal"/> names the rebundle whose undo needs it.</summary>
    public sealed record RoleKept(Role Role, string Reason, string? Journal = null);

    /// <summary>
    /// Retires old versioned roles: per base name, all but the newest <c>keepLatest</c> versions,
    /// never one a farm role runs, nor one whose role or image a recent rebundle's undo would put
    /// back. The image goes too unless another role (often the production role the version was
    /// promoted into) still uses it.
    /// </summary>
    public sealed class RoleRetirementService
    {
        private readonly Fleet _fleet;

        public RoleRetirementService(Fleet fleet) => _fleet = fleet;

        public (IReadOnlyList<RoleRetirement> Retire, IReadOnlyList<RoleKept> Kept) Plan(int keepLatest, IReadOnlyCollection<string>? baseNames, IReadOnlyList<UndoNeeds>? undo = null) =>
            Plan(_fleet.Roles(), _fleet.Backend.GetFarmRoles(), keepLatest, baseNames, undo);

        /// <summary>
        /// The rule itself, on roles and farm roles already read: what <see cref="Plan(int, IReadOnlyCollection{string}?, IReadOnlyList{UndoNeeds}?)"/>
        /// decides, and what the fleet report calls safe to retire (one rule, so the two never disagree).
        /// </summary>
        public static (IReadOnlyList<RoleRetirement> Retire, IReadOnlyList<RoleKept> Kept) Plan(
            RoleCatalog catalog, IReadOnlyList<FarmRole> farmRoles, int keepLatest, IReadOnlyCollection<string>? baseNames, IReadOnlyList<UndoNeeds>? undo = null)
        {
            undo ??= Array.Empty<UndoNeeds>();
            if (keepLatest < 1)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"-KeepLatest must be 1 or more so each role keeps a version to roll back to; got {keepLatest}.", keepLatest);
            var inUse = new HashSet<string>(farmRoles.Select(r => r.Role), StringComparer.OrdinalIgnoreCase);
            var retire = new List<RoleRetirement>();
            var kept = new List<RoleKept>();
            var bases = catalog.All.Where(r => r.IsVersioned).Select(r => r.BaseName).Distinct(StringComparer.OrdinalIgnoreCase)
                .Where(b => NameMatcher.MatchesAny(b, baseNames)).ToList();
            foreach (var baseName in bases)
            {
                var old = catalog.VersionsOf(baseName).Reverse().Skip(keepLatest).ToList();
                kept.AddRange(old.Where(r => inUse.Contains(r.Name)).Select(r => new RoleKept(r, "a farm role runs it")));
                var candidates = old.Where(r => !inUse.Contains(r.Name)).ToList();
                var leaving = new List<Role>();
                foreach (var role in candidates)
                {
                    var needed = undo.FirstOrDefault(n => n.Roles.Contains(role.Name) || n.Images.Contains(role.ImageId));
                    if (needed == null) leaving.Add(role);
                    else kept.Add(new RoleKept(role, $"undoing the rebundle in {needed.Journal} (started {needed.StartedAt:u}) would put back its {(needed.Roles.Contains(role.Name) ? "role" : "image " + role.ImageId)}", needed.Journal));
                }
                foreach (var role in leaving)
                {
                    var shared = catalog.All.Any(r => r.ImageId == role.ImageId && !leaving.Contains(r));
                    retire.Add(new RoleRetirement(role, !shared,
                        $"Retire role {role.Name}" + (shared ? $" (image {role.ImageId} stays: another role uses it)" : $" and delete image {role.ImageId}")));
                }
            }
            return (retire, kept);
        }

        /// <summary>The base names given without wildcards that no role has: TtmRoleNotFound each, with the nearest names.</summary>
        public IReadOnlyList<TtmException> Misses(IReadOnlyCollection<string>? baseNames)
        {
            if (baseNames == null || baseNames.Count == 0) return Array.Empty<TtmException>();
            var catalog = _fleet.Roles();
            return baseNames
                .Where(n => !NameMatcher.HasWildcard(n) && !catalog.All.Any(r => string.Equals(r.BaseName, n, StringComparison.OrdinalIgnoreCase)))
                .Select(catalog.NotFound)
                .ToList();
        }

        public void Apply(RoleRetirement retirement, System.Threading.CancellationToken cancellation = default)
        {
            var backend = _fleet.Backend.Capability<IRoleRetirement>()
                ?? throw new TtmException(TtmErrorCode.InvalidArgument, $"The {_fleet.Backend.Kind} backend cannot retire roles.", retirement.Role.Name);
            backend.DeleteRole(retirement.Role, retirement.DeleteImage, cancellation);
        }
    }
}

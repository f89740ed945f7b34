using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Runbook
{
    /// <summary>A farm role about to run another role (runbook step 6).</summary>
    public sealed record FarmRoleChange(FarmRole FarmRole, string NewRole)
    {
        public bool IsNoOp => string.Equals(FarmRole.Role, NewRole, StringComparison.OrdinalIgnoreCase);

        public string Description => $"Farm role {FarmRole.Alias} of farm {FarmRole.Farm}: run role {NewRole} instead of {FarmRole.Role}";
    }

    /// <summary>A role about to take another image (runbook steps 1 and 7).</summary>
    public sealed record RoleImageChange(Role Role, string NewImageId, IReadOnlyList<string> FarmsAffected)
    {
        public bool IsNoOp => string.Equals(Role.ImageId, NewImageId, StringComparison.Ordinal);

        public string Description => $"Role {Role.Name}: use image {NewImageId} instead of {Role.ImageId}" +
                                     (FarmsAffected.Count == 0 ? "" : $" (used by farm {string.Join(", ", FarmsAffected)})");
    }

    /// <summary>
    /// Which role a farm role runs, and which image a role uses: validated plans first, then
    /// the change, so a refused or unconfirmed change touches nothing. One service reads the
    /// roles, farms and farm roles once and keeps them current through its own changes, so a
    /// pipeline of many roles costs one read, not one per role.
    /// </summary>
    public sealed class RoleAssignmentService
    {
        private readonly Fleet _fleet;
        private RoleCatalog? _catalog;
        private IReadOnlyList<Farm>? _farms;
        private List<FarmRole>? _farmRoles;

        public RoleAssignmentService(Fleet fleet) => _fleet = fleet;

        private RoleCatalog Catalog => _catalog ??= _fleet.Roles();

        private IReadOnlyList<Farm> Farms => _farms ??= _fleet.Backend.GetFarms();

        private List<FarmRole> FarmRoles => _farmRoles ??= _fleet.Backend.GetFarmRoles().ToList();

        /// <summary>
        /// The farm role of <paramref name="farm"/> aliased <paramref name="alias"/> (default: the
        /// role's base name, so <c>RailsAppServer-1-7</c> goes to alias <c>RailsAppServer</c>)
        /// will run <paramref name="roleName"/>, which must exist.
        /// </summary>
        public FarmRoleChange PlanFarmRole(string farm, string roleName, string? alias)
        {
            var role = Catalog.Require(roleName);
            var farmRole = Fleet.FindFarmRole(Fleet.FindFarm(farm, Farms), string.IsNullOrEmpty(alias) ? role.BaseName : alias!, FarmRoles);
            return new FarmRoleChange(farmRole, role.Name);
        }

        public FarmRole Apply(FarmRoleChange change, CancellationToken cancellation = default)
        {
            if (change.IsNoOp) return change.FarmRole;
            var changed = _fleet.Backend.SetFarmRoleRole(change.FarmRole, change.NewRole, cancellation);
            if (_farmRoles != null) _farmRoles[_farmRoles.FindIndex(r => r.Id == changed.Id)] = changed with { ChefRole = change.FarmRole.ChefRole };
            return changed;
        }

        /// <summary>
        /// Role <paramref name="roleName"/> will use <paramref name="imageId"/>, which must exist and
        /// be available (a role never points at an image that is not ready).
        /// </summary>
        public RoleImageChange PlanRoleImage(string roleName, string imageId)
        {
            var role = Catalog.Require(roleName);
            if (string.IsNullOrWhiteSpace(imageId))
                throw new TtmException(TtmErrorCode.InvalidArgument, "An image id is required: pipe a role in or pass -Image.", roleName);
            var image = _fleet.Backend.GetImages(new[] { imageId }).FirstOrDefault();
            if (image == null)
                throw new TtmException(TtmErrorCode.ImageNotFound, $"There is no image '{imageId}'. Pipe a role from Get-TtmRole, or pass an image id the backend knows.", imageId);
            if (image.Status != ImageStatus.Available)
                throw new TtmException(TtmErrorCode.ImageFailed, $"Image {imageId} is {image.Status}, not Available; role {role.Name} was left alone. Wait for the image, then try again.", imageId);
            var farmsRunning = FarmRoles.Where(r => string.Equals(r.Role, role.Name, StringComparison.OrdinalIgnoreCase))
                .Select(r => r.Farm).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            return new RoleImageChange(role, imageId, farmsRunning);
        }

        public Role Apply(RoleImageChange change, CancellationToken cancellation = default)
        {
            if (change.IsNoOp) return change.Role;
            var changed = _fleet.Backend.SetRoleImage(change.Role, change.NewImageId, cancellation);
            if (_catalog != null) _catalog = new RoleCatalog(_catalog.All.Select(r => r.Id == changed.Id ? changed : r).ToList());
            return changed;
        }
    }
}

using Rebundle.Domain;

namespace Rebundle.Backends
{
    /// <summary>
    /// What a run will change, one list per kind of change, with the objects it will change
    /// (a backend's dry run needs real ones: an instance to image, a template to copy).
    /// </summary>
    public sealed record PermissionCheckRequest
    {
        public IReadOnlyList<Server> ToImage { get; init; } = Array.Empty<Server>();

        /// <summary>Roles a new role is copied from (CreateRole's template).</summary>
        public IReadOnlyList<Role> ToCopy { get; init; } = Array.Empty<Role>();

        /// <summary>Roles that get a new image (SetRoleImage).</summary>
        public IReadOnlyList<Role> ToReimage { get; init; } = Array.Empty<Role>();

        /// <summary>Farm roles that get another role (SetFarmRoleRole), or are leased.</summary>
        public IReadOnlyList<FarmRole> ToRetag { get; init; } = Array.Empty<FarmRole>();

        public IReadOnlyList<FarmRole> ToLaunchInto { get; init; } = Array.Empty<FarmRole>();

        public IReadOnlyList<Server> ToTerminate { get; init; } = Array.Empty<Server>();

        public IReadOnlyList<Role> ToRetire { get; init; } = Array.Empty<Role>();

        /// <summary>Servers the run sends commands to through the backend's own service (AWS: SSM Run Command) rather than SSH.</summary>
        public IReadOnlyList<Server> ToCommand { get; init; } = Array.Empty<Server>();
    }

    /// <summary>A permission the backend's credentials lack, by the name its policy language uses (e.g. <c>ec2:CreateImage</c>), and what needs it.</summary>
    public sealed record MissingPermission(string Permission, string NeededTo)
    {
        public override string ToString() => $"{Permission} ({NeededTo})";
    }

    /// <summary>
    /// A backend that can tell, without changing anything, which permissions a run's changes
    /// would be refused (EC2: DryRun). Asked before the first change, so a missing permission
    /// stops a run before it snapshots rather than half-way. Changes nothing: the audit wrapper
    /// forwards it as it is.
    /// </summary>
    public interface IPermissionCheck : IUnauditedCapability
    {
        /// <summary>Every permission the request's changes need and the credentials lack, all at once; empty when all are granted.</summary>
        IReadOnlyList<MissingPermission> MissingPermissions(PermissionCheckRequest request, System.Threading.CancellationToken cancellationToken = default);
    }
}

using Rebundle.Backends;
using Rebundle.Errors;
using Rebundle.Runbook;

namespace Rebundle.Rebundling
{
    /// <summary>
    /// Before a rebundle changes anything (and for -WhatIf), asks a backend that can check
    /// permissions (<see cref="IPermissionCheck"/>) about every kind of change the plan makes,
    /// and lists every missing permission at once. A backend without the capability is not asked.
    /// </summary>
    public static class RebundlePreflight
    {
        public static IReadOnlyList<MissingPermission> MissingPermissions(Fleet fleet, RebundlePlan plan)
        {
            var check = fleet.Backend.Capability<IPermissionCheck>();
            return check == null ? Array.Empty<MissingPermission>() : check.MissingPermissions(RequestFor(fleet, plan));
        }

        /// <summary>Throws TtmAccessDenied listing every missing permission; nothing has changed yet.</summary>
        public static void Require(Fleet fleet, RebundlePlan plan)
        {
            var missing = MissingPermissions(fleet, plan);
            if (missing.Count > 0) throw Denied("Invoke-TtmRebundle", missing);
        }

        public static TtmException Denied(string command, IReadOnlyList<MissingPermission> missing) => new TtmException(
            TtmErrorCode.AccessDenied,
            $"{command} needs permissions these credentials do not have, so nothing was changed. Missing: {string.Join("; ", missing)}. " +
            "Grant them (the backend's docs list the minimal policy per cmdlet, e.g. docs/aws.md) and run it again.",
            string.Join(",", missing.Select(m => m.Permission)));

        /// <summary>The plan's changes: snapshots of staging servers, new and re-imaged roles, test swaps, and the three recycles.</summary>
        private static PermissionCheckRequest RequestFor(Fleet fleet, RebundlePlan plan)
        {
            var farms = new[] { plan.StagingFarm, plan.TestFarm, plan.ProductionFarm };
            var farmRoles = fleet.Backend.GetFarmRoles(farms);
            var servers = fleet.Backend.GetServers(new ServerQuery { Farms = farms });
            var roles = fleet.Backend.GetRoles();
            var staging = servers.Where(s => string.Equals(s.Farm, plan.StagingFarm, StringComparison.OrdinalIgnoreCase)).ToList();
            bool Named(Domain.Role role, IEnumerable<string> names) => names.Contains(role.Name, StringComparer.OrdinalIgnoreCase);
            var reimaged = plan.Promotions.Concat(plan.HasBaseStep ? new[] { plan.BaseRole } : Array.Empty<string>());
            return new PermissionCheckRequest
            {
                ToImage = staging,
                ToCopy = roles.Where(r => Named(r, staging.Select(s => s.Role))).ToList(), // a snapshot's role copies the server's
                ToReimage = roles.Where(r => Named(r, reimaged)).ToList(),
                ToRetag = farmRoles,
                ToLaunchInto = farmRoles,
                ToTerminate = servers,
            };
        }
    }
}

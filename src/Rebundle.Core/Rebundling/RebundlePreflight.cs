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
        /// <param name="preparation">The run's remote work, when it has any: its commands through the backend (SSM) are asked about too.</param>
        public static IReadOnlyList<MissingPermission> MissingPermissions(Fleet fleet, RebundlePlan plan, IServerPreparation? preparation = null)
        {
            var check = fleet.Backend.Capability<IPermissionCheck>();
            return check == null ? Array.Empty<MissingPermission>() : check.MissingPermissions(RequestFor(fleet, plan, preparation));
        }

        /// <summary>Throws TtmAccessDenied listing every missing permission; nothing has changed yet.</summary>
        public static void Require(Fleet fleet, RebundlePlan plan, IServerPreparation? preparation = null)
        {
            var missing = MissingPermissions(fleet, plan, preparation);
            if (missing.Count > 0) throw Denied("Invoke-TtmRebundle", missing);
        }

        public static TtmException Denied(string command, IReadOnlyList<MissingPermission> missing) => new TtmException(
            TtmErrorCode.AccessDenied,
            $"{command} needs permissions these credentials do not have, so nothing was changed. Missing: {string.Join("; ", missing)}. " +
            "Grant them (the backend's docs list the minimal policy per cmdlet, e.g. docs/aws.md) and run it again.",
            string.Join(",", missing.Select(m => m.Permission)));

        /// <summary>
        /// The plan's changes: snapshots of staging servers, new and re-imaged roles, test swaps,
        /// and the three recycles; and the servers its OS update (staging's base server) and
        /// checks (staging and test) reach through the backend. The servers running now stand
        /// for the replacements the checks will meet, which their farms' keys and agents also reach.
        /// </summary>
        private static PermissionCheckRequest RequestFor(Fleet fleet, RebundlePlan plan, IServerPreparation? preparation)
        {
            var farms = new[] { plan.StagingFarm, plan.TestFarm, plan.ProductionFarm };
            var farmRoles = fleet.Backend.GetFarmRoles(farms);
            var servers = fleet.Backend.GetServers(new ServerQuery { Farms = farms });
            var roles = fleet.Backend.GetRoles();
            var staging = servers.Where(s => string.Equals(s.Farm, plan.StagingFarm, StringComparison.OrdinalIgnoreCase)).ToList();
            bool Named(Domain.Role role, IEnumerable<string> names) => names.Contains(role.Name, StringComparer.OrdinalIgnoreCase);
            var reimaged = plan.Promotions.Concat(plan.HasBaseStep ? new[] { plan.BaseRole } : Array.Empty<string>());
            var updatesOs = !plan.SkipOsUpdate && plan.HasBaseStep;
            var reached = servers.Where(s => s.Status == Domain.ServerStatus.Running &&
                                             ((updatesOs && string.Equals(s.Farm, plan.StagingFarm, StringComparison.OrdinalIgnoreCase) && string.Equals(s.Role, plan.BaseRole, StringComparison.OrdinalIgnoreCase)) ||
                                              (plan.Verify && !string.Equals(s.Farm, plan.ProductionFarm, StringComparison.OrdinalIgnoreCase)))).ToList();
            var commanded = preparation != null && reached.Count > 0 ? preparation.ThroughBackend(reached) : Array.Empty<Domain.Server>();
            return new PermissionCheckRequest
            {
                ToImage = staging,
                ToCopy = roles.Where(r => Named(r, staging.Select(s => s.Role))).ToList(), // a snapshot's role copies the server's
                ToReimage = roles.Where(r => Named(r, reimaged)).ToList(),
                ToRetag = farmRoles,
                ToLaunchInto = farmRoles,
                ToTerminate = servers,
                ToCommand = commanded,
            };
        }
    }
}

using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Runbook
{
    /// <summary>
    /// Keeps farm roles whose servers an Auto Scaling group manages, but that are not that group
    /// (no ttm:auto-scaling-group naming it: New-TtmFarmRole -AutoScalingGroup brings it in), out of a recycle before anything is
    /// launched: the group would replace what Rebundle terminates and never adopt what it
    /// launches. A farm role the operator named (its alias, or one of its servers) refuses the
    /// whole recycle; one only swept up by a whole farm or a wildcard is skipped with a warning,
    /// so the rest of the farm is still recycled (docs/decisions.md).
    /// </summary>
    internal static class AutoScalingScope
    {
        /// <summary>
        /// Removes the managed farm roles from <paramref name="farmRoleIds"/> and
        /// <paramref name="namedServers"/>, or throws TtmManagedByAutoScaling when one was named.
        /// </summary>
        public static void Exclude(IReadOnlyList<Server> live, IReadOnlyList<FarmRole> farmRoles, HashSet<string> farmRoleIds, ISet<string> namedFarmRoleIds,
            List<Server> namedServers, IRunbookReporter reporter)
        {
            // A farm role that is the group its servers belong to is Rebundle's to recycle, through the group.
            var groupOf = farmRoles.Where(r => r.IsScalingGroup).ToDictionary(r => r.Id, r => r.ScalingGroup, StringComparer.Ordinal);
            var managed = live.Where(s => !string.IsNullOrEmpty(s.AutoScalingGroup)
                                          && !(groupOf.TryGetValue(s.FarmRoleId, out var group) && group == s.AutoScalingGroup))
                .GroupBy(s => s.FarmRoleId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            if (managed.Count == 0) return;

            var named = namedServers.Select(s => s.FarmRoleId).Concat(namedFarmRoleIds);
            foreach (var id in named.Where(managed.ContainsKey)) throw Refusal(managed[id]);

            foreach (var id in farmRoleIds.Where(managed.ContainsKey).ToList())
            {
                var server = managed[id];
                farmRoleIds.Remove(id);
                reporter.Warning($"Farm role {server.Farm}/{server.Alias} is managed by Auto Scaling group '{server.AutoScalingGroup}' ({server.Name}, {server.Id}); " +
                                 "it was left out of this recycle, the rest of the farm is recycled. " + RollOutAdvice(server.AutoScalingGroup!));
            }
        }

        public static TtmException Refusal(Server server) => new TtmException(
            TtmErrorCode.ManagedByAutoScaling,
            $"Farm role {server.Farm}/{server.Alias} is managed by Auto Scaling group '{server.AutoScalingGroup}' ({server.Name}, {server.Id}); " +
            "nothing was launched or terminated. Rebundle never launches or terminates servers of an Auto Scaling group, which would replace them too. " +
            RollOutAdvice(server.AutoScalingGroup!) + " To recycle the rest of the farm, name the farm without -Alias: managed farm roles are then skipped.",
            server.Alias);

        private static string RollOutAdvice(string group) =>
            $"Bring the group in as the farm role (New-TtmFarmRole -AutoScalingGroup {group}), and Rebundle recycles it through the group. See docs/aws.md, Auto Scaling groups.";
    }
}

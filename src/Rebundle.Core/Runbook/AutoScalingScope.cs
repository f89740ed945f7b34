using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Runbook
{
    /// <summary>
    /// Keeps farm roles an Auto Scaling group manages out of a recycle before anything is
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
        public static void Exclude(IReadOnlyList<Server> live, HashSet<string> farmRoleIds, ISet<string> namedFarmRoleIds,
            List<Server> namedServers, IRunbookReporter reporter)
        {
            var managed = live.Where(s => !string.IsNullOrEmpty(s.AutoScalingGroup))
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
            "Roll the new image out with the group: point its launch template at the image (Set-TtmRoleImage, if it launches from a role's template) " +
            $"and start an instance refresh (aws autoscaling start-instance-refresh --auto-scaling-group-name {group}). See docs/aws.md, Auto Scaling groups.";
    }
}

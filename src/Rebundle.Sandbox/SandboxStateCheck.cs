using Rebundle.Errors;

namespace Rebundle.Sandbox
{
    /// <summary>
    /// Checks a Sandbox file's content after it was parsed: JSON that parses can still say
    /// "servers": null, name a farm that is not there or want -1 servers, and the backend would
    /// then fail later with a raw NullReferenceException. The first problem found becomes
    /// TtmStateFileCorrupt naming the field and the file. Simulated delays out of range are
    /// clamped instead (they are rehearsal knobs, and Set-TtmSandbox must still work to fix them).
    /// </summary>
    internal static class SandboxStateCheck
    {
        /// <summary>The longest simulated delay; Set-TtmSandbox accepts no more (docs/decisions.md).</summary>
        public static readonly double MaxDelaySeconds = TimeSpan.FromDays(1).TotalSeconds;

        // Delays are added to stored times; anything later would overflow DateTimeOffset.
        private static readonly DateTimeOffset LatestTime = DateTimeOffset.MaxValue - TimeSpan.FromDays(2);

        public static void Check(SandboxState state, string path)
        {
            void Fail(string field, string problem) => throw new TtmException(TtmErrorCode.StateFileCorrupt,
                $"The Sandbox file {path} is damaged: {field} {problem}. Fix that field, move the file aside to start a fresh Sandbox, or restore it from a copy.",
                path);

            List<T> Present<T>(List<T>? list, string field) where T : class
            {
                if (list == null) Fail(field, "is missing or null (it must be a list, [] when empty)");
                for (var i = 0; i < list!.Count; i++)
                    if (list[i] == null) Fail($"{field}[{i}]", "is null");
                return list;
            }

            void Named(string? value, string field)
            {
                if (string.IsNullOrEmpty(value)) Fail(field, "is empty");
            }

            if (state.Simulation == null) Fail("simulation", "is missing or null");
            Present(state.Simulation!.FailBoot, "simulation.failBoot");
            Present(state.Simulation.NeverBoot, "simulation.neverBoot");
            Present(state.Simulation.FailImage, "simulation.failImage");
            Present(state.Simulation.FailHealth, "simulation.failHealth");
            ClampDelays(state.Simulation);

            var farms = Present(state.Farms, "farms");
            var farmRoles = Present(state.FarmRoles, "farmRoles");
            var roles = Present(state.Roles, "roles");
            var images = Present(state.Images, "images");
            var servers = Present(state.Servers, "servers");
            var targetGroups = Present(state.TargetGroups, "targetGroups");
            for (var i = 0; i < targetGroups.Count; i++)
            {
                Named(targetGroups[i].Name, $"targetGroups[{i}].name");
                Present(targetGroups[i].Targets, $"targetGroups[{i}].targets");
            }
            for (var i = 0; i < farmRoles.Count; i++)
                Present(farmRoles[i].TargetGroups, $"farmRoles[{i}].targetGroups");

            for (var i = 0; i < farms.Count; i++)
            {
                Named(farms[i].Id, $"farms[{i}].id");
                Named(farms[i].Name, $"farms[{i}].name");
            }
            for (var i = 0; i < roles.Count; i++)
            {
                Named(roles[i].Name, $"roles[{i}].name");
                if (roles[i].PreviousImages == null) Fail($"roles[{i}].previousImages", "is null (it must be a list, [] when empty)");
            }
            for (var i = 0; i < images.Count; i++) Named(images[i].Id, $"images[{i}].id");

            var farmIds = new HashSet<string>(farms.Select(f => f.Id), StringComparer.Ordinal);
            var roleNames = new HashSet<string>(roles.Select(r => r.Name), StringComparer.Ordinal);
            for (var i = 0; i < farmRoles.Count; i++)
            {
                var farmRole = farmRoles[i];
                Named(farmRole.Id, $"farmRoles[{i}].id");
                Named(farmRole.Alias, $"farmRoles[{i}].alias");
                if (!farmIds.Contains(farmRole.FarmId ?? ""))
                    Fail($"farmRoles[{i}].farmId", $"'{farmRole.FarmId}' names no farm in farms");
                if (!roleNames.Contains(farmRole.Role ?? ""))
                    Fail($"farmRoles[{i}].role", $"'{farmRole.Role}' names no role in roles");
                if (farmRole.Count < 0) Fail($"farmRoles[{i}].count", $"is {farmRole.Count}; a farm role wants 0 or more servers");
            }

            var farmRoleIds = new HashSet<string>(farmRoles.Select(r => r.Id), StringComparer.Ordinal);
            for (var i = 0; i < servers.Count; i++)
            {
                Named(servers[i].Id, $"servers[{i}].id");
                if (!farmRoleIds.Contains(servers[i].FarmRoleId ?? ""))
                    Fail($"servers[{i}].farmRoleId", $"'{servers[i].FarmRoleId}' names no farm role in farmRoles");
                if (servers[i].Index < 0) Fail($"servers[{i}].index", $"is {servers[i].Index}; server indexes start at 1");
                foreach (var (field, time) in new[] { ("launchedAt", (DateTimeOffset?)servers[i].LaunchedAt), ("bootedAt", servers[i].BootedAt), ("terminatedAt", servers[i].TerminatedAt) })
                    if (time > LatestTime) Fail($"servers[{i}].{field}", $"is {time:O}, too far in the future to add a delay to");
            }
        }

        private static void ClampDelays(SimulationSettings simulation)
        {
            simulation.BootSeconds = Clamp(simulation.BootSeconds, 2);
            simulation.ImageSeconds = Clamp(simulation.ImageSeconds, 3);
            simulation.RespawnSeconds = Clamp(simulation.RespawnSeconds, 2);
            simulation.HealthSeconds = Clamp(simulation.HealthSeconds, 1);
            simulation.DrainSeconds = Clamp(simulation.DrainSeconds, 1);
        }

        // NaN (hand-edited) falls back to the default; anything else into 0 .. one day.
        private static double Clamp(double seconds, double fallback) =>
            double.IsNaN(seconds) ? fallback : Math.Max(0, Math.Min(MaxDelaySeconds, seconds));
    }
}

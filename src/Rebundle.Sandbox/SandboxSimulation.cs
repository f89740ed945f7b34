using Rebundle.Domain;

namespace Rebundle.Sandbox
{
    /// <summary>
    /// The Sandbox's physics, computed from timestamps rather than background threads:
    /// a server is pending until it has booted, an image until it is ready, and a farm role
    /// that has fewer live servers than it wants launches one once the respawn delay has
    /// passed since the last termination — the way a Scalr farm respawns what you terminate.
    /// </summary>
    internal static class SandboxSimulation
    {
        public static ServerStatus StatusOf(ServerRecord server, DateTimeOffset now)
        {
            if (server.TerminatedAt != null && server.TerminatedAt <= now) return ServerStatus.Terminated;
            if (server.BootedAt == null || server.BootedAt > now) return ServerStatus.Pending;
            return server.BootFails ? ServerStatus.Failed : ServerStatus.Running;
        }

        public static ImageStatus StatusOf(ImageRecord image, DateTimeOffset now) =>
            image.ReadyAt > now ? ImageStatus.Pending : image.Fails ? ImageStatus.Failed : ImageStatus.Available;

        /// <summary>Launches respawns that are due. Returns whether the state changed.</summary>
        public static bool Respawn(SandboxState state, DateTimeOffset now)
        {
            var changed = false;
            var respawnDelay = TimeSpan.FromSeconds(state.Simulation.RespawnSeconds);
            foreach (var farmRole in state.FarmRoles)
            {
                var servers = state.Servers.Where(s => s.FarmRoleId == farmRole.Id).ToList();
                var live = servers.Count(s => s.TerminatedAt == null && !s.BootFails);
                var lastTermination = servers.Where(s => s.TerminatedAt != null).Select(s => s.TerminatedAt!.Value).DefaultIfEmpty(now).Max();
                var dueAt = lastTermination + respawnDelay;
                for (; live < farmRole.Count && dueAt <= now; live++)
                {
                    var respawned = Launch(state, farmRole, dueAt);
                    state.Servers.Add(respawned);
                    // The farm registers what it respawns, as an Auto Scaling group attached to a target group does.
                    SandboxLoadBalancing.RegisterInFarmRole(state, farmRole, respawned, dueAt);
                    changed = true;
                }
            }
            return changed;
        }

        /// <summary>A new server of the farm role, at the lowest free index, booting from the role's image.</summary>
        public static ServerRecord Launch(SandboxState state, FarmRoleRecord farmRole, DateTimeOffset at)
        {
            var role = state.Roles.First(r => r.Name == farmRole.Role);
            var used = new HashSet<int>(state.Servers.Where(s => s.FarmRoleId == farmRole.Id && s.TerminatedAt == null).Select(s => s.Index));
            var index = Enumerable.Range(1, used.Count + 1).First(i => !used.Contains(i));
            var key = FarmRoleKey(state, farmRole);
            var sim = state.Simulation;
            var neverBoots = sim.NeverBoot.Contains(key, StringComparer.OrdinalIgnoreCase);
            return new SandboxIds(state).NewServer(
                farmRole, index, role.ImageId, at,
                neverBoots ? null : at + TimeSpan.FromSeconds(sim.BootSeconds + BootSpreadDraw(sim)),
                sim.FailBoot.Contains(key, StringComparer.OrdinalIgnoreCase),
                sim.FailHealth.Contains(key, StringComparer.OrdinalIgnoreCase));
        }

        /// <summary>
        /// The next share of the boot spread: uniform on [0, spread), the n-th number of the seed's
        /// sequence (SplitMix64), so the same seed and the same launches boot alike on every run.
        /// </summary>
        private static double BootSpreadDraw(SimulationSettings sim)
        {
            if (sim.BootSpreadSeconds <= 0) return 0;
            var z = unchecked((ulong)sim.BootSeed * 0x9E3779B97F4A7C15UL + (ulong)(++sim.BootDraws) * 0xBF58476D1CE4E5B9UL);
            z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
            z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
            z ^= z >> 31;
            return (z >> 11) * (1.0 / (1UL << 53)) * sim.BootSpreadSeconds;
        }

        public static string FarmRoleKey(SandboxState state, FarmRoleRecord farmRole) =>
            state.Farms.First(f => f.Id == farmRole.FarmId).Name + "/" + farmRole.Alias;
    }
}

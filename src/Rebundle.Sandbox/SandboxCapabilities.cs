using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Sandbox
{
    // The Sandbox backend's optional capabilities, each its own part (SandboxBackend.Capability<T>).
    // The Sandbox is one state file under one lock, so the parts keep no state of their own:
    // each reads and changes that file through the backend (Read, Change), as its calls do.

    /// <summary>Images by name, for a resumed rebundle.</summary>
    internal sealed class SandboxImageLookup : IImageLookup
    {
        private readonly SandboxBackend _sandbox;

        public SandboxImageLookup(SandboxBackend sandbox) => _sandbox = sandbox;

        public IReadOnlyList<Image> FindImagesByName(string name, CancellationToken cancellationToken = default) => _sandbox.Read(cancellationToken, state => state.Images
            .Where(i => string.Equals(i.Name, name, StringComparison.Ordinal))
            .Select(i => SandboxBackend.ToImage(i, _sandbox.Clock.UtcNow))
            .ToList());
    }

    /// <summary>Retiring a role no farm role runs, and its image when no role is left on it.</summary>
    internal sealed class SandboxRoleRetirement : IRoleRetirement
    {
        private readonly SandboxBackend _sandbox;

        public SandboxRoleRetirement(SandboxBackend sandbox) => _sandbox = sandbox;

        public void DeleteRole(Role role, bool deleteImage, CancellationToken cancellationToken = default) => _sandbox.Change(cancellationToken, state =>
        {
            var record = state.Roles.FirstOrDefault(r => string.Equals(r.Name, role.Name, StringComparison.OrdinalIgnoreCase))
                ?? throw new TtmException(TtmErrorCode.RoleNotFound, $"There is no role named '{role.Name}'.", role.Name);
            if (state.FarmRoles.Any(r => string.Equals(r.Role, record.Name, StringComparison.OrdinalIgnoreCase)))
                throw new TtmException(TtmErrorCode.InvalidArgument, $"Role {record.Name} is still run by a farm role; it was kept.", record.Name);
            state.Roles.Remove(record);
            if (deleteImage && !state.Roles.Any(r => r.ImageId == record.ImageId))
                state.Images.RemoveAll(i => i.Id == record.ImageId);
            return true;
        });
    }

    /// <summary>Set-TtmSandbox's knobs: the simulation's delays and faults, and growing a farm role.</summary>
    internal sealed class SandboxControl : ISandboxControl
    {
        private readonly SandboxBackend _sandbox;

        public SandboxControl(SandboxBackend sandbox) => _sandbox = sandbox;

        public string Location => _sandbox.Location;

        /// <summary>Changes the rehearsal knobs (delays, faults) stored in the Sandbox file.</summary>
        public void Simulate(Action<SimulationOptions> change) => _sandbox.Change(CancellationToken.None, state =>
        {
            var options = new SimulationOptions(state.Simulation);
            change(options);
            RequireKnownTargets(state); // a typo would rehearse nothing, silently: refused, and nothing is written
            return true;
        });

        private static void RequireKnownTargets(SandboxState state)
        {
            var farmRoles = state.FarmRoles.Select(r => SandboxSimulation.FarmRoleKey(state, r)).OrderBy(k => k, StringComparer.OrdinalIgnoreCase).ToList();
            foreach (var (list, name) in new[] { (state.Simulation.FailBoot, "-FailBoot"), (state.Simulation.NeverBoot, "-NeverBoot"), (state.Simulation.FailHealth, "-FailHealth") })
            {
                var unknown = list.FirstOrDefault(t => !farmRoles.Contains(t, StringComparer.OrdinalIgnoreCase));
                if (unknown != null)
                    throw new TtmException(TtmErrorCode.InvalidArgument,
                        $"{name} '{unknown}' names no farm role of the Sandbox. Give 'Farm/Alias', one of: {string.Join(", ", farmRoles)}.", unknown);
            }
            // Images are named after the role version a snapshot makes (Sidekiq-1-7), which does not exist yet: its base must.
            var bases = state.Roles.Select(r => RoleName.Parse(r.Name).BaseName).Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(b => b, StringComparer.OrdinalIgnoreCase).ToList();
            foreach (var target in state.Simulation.FailImage)
            {
                string? baseName;
                try { baseName = RoleName.Parse(target).BaseName; }
                catch (TtmException) { baseName = null; }
                if (baseName == null || !bases.Contains(baseName, StringComparer.OrdinalIgnoreCase))
                    throw new TtmException(TtmErrorCode.InvalidArgument,
                        $"-FailImage '{target}' names no role of the Sandbox. Give a role version to be snapshotted (such as Sidekiq-1-7) of one of: {string.Join(", ", bases)}.", target);
            }
        }

        public void Scale(string farm, string alias, int count) => _sandbox.Change(CancellationToken.None, state =>
        {
            var farmRole = state.FarmRoles.FirstOrDefault(r => string.Equals(SandboxSimulation.FarmRoleKey(state, r), farm + "/" + alias, StringComparison.OrdinalIgnoreCase))
                ?? throw new TtmException(TtmErrorCode.FarmRoleNotFound, $"There is no farm role {farm}/{alias} in the Sandbox. Run Get-TtmFarmRole to list them.", farm + "/" + alias);
            var imageId = state.Roles.First(r => r.Name == farmRole.Role).ImageId;
            var now = _sandbox.Clock.UtcNow;
            var used = new HashSet<int>(state.Servers.Where(s => s.FarmRoleId == farmRole.Id && s.TerminatedAt == null).Select(s => s.Index));
            for (var index = 1; used.Count < count; index++)
                if (used.Add(index))
                {
                    var server = new SandboxIds(state).NewServer(farmRole, index, imageId, now, now);
                    state.Servers.Add(server);
                    // Grown servers serve at once, like the seeded ones: registered healthy.
                    SandboxLoadBalancing.RegisterInFarmRole(state, farmRole, server, now - TimeSpan.FromSeconds(state.Simulation.HealthSeconds));
                }
            farmRole.Count = Math.Max(farmRole.Count, count);
            return true;
        });
    }
}

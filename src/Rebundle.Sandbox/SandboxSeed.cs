using System;
using System.Linq;
using Rebundle.Naming;

namespace Rebundle.Sandbox
{
    /// <summary>
    /// The fleet a new Sandbox starts with: the runbook's farms, the base role, the production
    /// roles and their versioned roles at 1-6, every server already running.
    /// </summary>
    internal static class SandboxSeed
    {
        public static SandboxState Create(NameTables names, DateTimeOffset now)
        {
            var state = new SandboxState();
            var ids = new SandboxIds(state);
            var seededAt = now - TimeSpan.FromDays(30);

            string NewImage(string name)
            {
                var image = new ImageRecord { Id = ids.Image(), Name = name, CreatedAt = seededAt, ReadyAt = seededAt };
                state.Images.Add(image);
                return image.Id;
            }

            void AddRole(string name, string imageId) =>
                state.Roles.Add(new RoleRecord { Id = ids.Role(), Name = name, ImageId = imageId, CreatedAt = seededAt });

            AddRole(names.BaseRole, NewImage(names.BaseRole));
            foreach (var role in names.ProductionRoles)
            {
                var image = NewImage(role + "-1-6");
                AddRole(role, image);
                AddRole(role + "-1-6", image);
            }

            void AddFarm(string farm, Func<string, (string role, int count)?> layout, string[] aliases)
            {
                var farmRecord = new FarmRecord { Id = ids.Farm(), Name = farm };
                state.Farms.Add(farmRecord);
                foreach (var alias in aliases)
                {
                    var placement = layout(alias);
                    if (placement == null) continue;
                    var farmRole = new FarmRoleRecord { Id = ids.FarmRole(), FarmId = farmRecord.Id, Alias = alias, Role = placement.Value.role, Count = placement.Value.count };
                    state.FarmRoles.Add(farmRole);
                    for (var index = 1; index <= farmRole.Count; index++)
                    {
                        var image = state.Roles.First(r => r.Name == farmRole.Role).ImageId;
                        state.Servers.Add(ids.NewServer(farmRole, index, image, seededAt, seededAt));
                    }
                }
            }

            var stagingAliases = new[] { names.BaseRole, "RailsAppServer", "NodeAppServer", "Sidekiq", "DevDebug", "SystemWatcher" };
            var farmAliases = new[] { "RailsAppServer", "NodeAppServer", "Sidekiq", "Reports", "DevDebug", "SystemWatcher" };
            AddFarm(names.StagingFarm, _ => (names.BaseRole, 1), stagingAliases);
            AddFarm(names.TestFarm, alias => (alias, 1), farmAliases);
            AddFarm(names.ProductionFarm, alias => (alias, alias == "RailsAppServer" ? 2 : 1), farmAliases);
            return state;
        }
    }

    /// <summary>Hands out the Sandbox's ids, cloud-shaped so they read like the real thing.</summary>
    internal sealed class SandboxIds
    {
        private readonly SandboxState _state;

        public SandboxIds(SandboxState state) => _state = state;

        private long Next() => _state.NextNumber++;

        public string Farm() => "farm-" + Next();

        public string FarmRole() => "farmrole-" + Next();

        public string Role() => "role-" + Next();

        public string Image() => "ami-" + Next().ToString("x").PadLeft(17, '0');

        public string Instance() => "i-" + Next().ToString("x").PadLeft(17, '0');

        public ServerRecord NewServer(FarmRoleRecord farmRole, int index, string imageId, DateTimeOffset launchedAt, DateTimeOffset? bootedAt, bool bootFails = false)
        {
            var number = _state.NextNumber;
            return new ServerRecord
            {
                Id = Instance(),
                FarmRoleId = farmRole.Id,
                Index = index,
                Role = farmRole.Role,
                ImageId = imageId,
                // Private range and the documentation range (RFC 5737): never reachable by accident.
                PrivateIp = $"10.0.{number / 250 % 250}.{number % 250 + 1}",
                PublicIp = $"203.0.113.{number % 250 + 1}",
                LaunchedAt = launchedAt,
                BootedAt = bootedAt,
                BootFails = bootFails,
            };
        }
    }
}

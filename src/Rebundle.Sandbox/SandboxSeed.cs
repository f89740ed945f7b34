using Rebundle.Naming;

namespace Rebundle.Sandbox
{
    /// <summary>
    /// The fleet a new Sandbox starts with: <see cref="RunbookFleet"/> (the one description the
    /// loopback EC2 endpoint and Scalr seed from too), every server already running.
    /// </summary>
    internal static class SandboxSeed
    {
        public static SandboxState Create(NameTables names, DateTimeOffset now)
        {
            var seed = RunbookFleet.From(names);
            var state = new SandboxState();
            var ids = new SandboxIds(state);
            var seededAt = now - RunbookFleet.Age;

            var images = new Dictionary<string, string>();
            foreach (var role in seed.Roles)
            {
                if (!images.TryGetValue(role.Image, out var imageId))
                {
                    imageId = images[role.Image] = ids.Image();
                    state.Images.Add(new ImageRecord { Id = imageId, Name = role.Image, CreatedAt = seededAt, ReadyAt = seededAt });
                }
                state.Roles.Add(new RoleRecord { Id = ids.Role(), Name = role.Name, ImageId = imageId, CreatedAt = seededAt });
            }

            foreach (var farm in seed.Farms)
            {
                var farmRecord = new FarmRecord { Id = ids.Farm(), Name = farm.Name };
                state.Farms.Add(farmRecord);
                foreach (var placement in farm.FarmRoles)
                {
                    var farmRole = new FarmRoleRecord
                    {
                        Id = ids.FarmRole(), FarmId = farmRecord.Id, Alias = placement.Alias, Role = placement.Role, Count = placement.Count,
                        TargetGroups = placement.TargetGroups.ToList(),
                    };
                    state.FarmRoles.Add(farmRole);
                    foreach (var name in farmRole.TargetGroups.Where(n => !state.TargetGroups.Any(g => g.Name == n)))
                        state.TargetGroups.Add(new TargetGroupRecord { Name = name });
                    var image = images[seed.ImageOf(placement.Role)];
                    for (var index = 1; index <= farmRole.Count; index++)
                    {
                        var server = ids.NewServer(farmRole, index, image, seededAt, seededAt);
                        state.Servers.Add(server);
                        SandboxLoadBalancing.RegisterInFarmRole(state, farmRole, server, seededAt);
                    }
                }
            }
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

        public ServerRecord NewServer(FarmRoleRecord farmRole, int index, string imageId, DateTimeOffset launchedAt, DateTimeOffset? bootedAt, bool bootFails = false, bool healthFails = false)
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
                HealthFails = healthFails,
            };
        }
    }
}

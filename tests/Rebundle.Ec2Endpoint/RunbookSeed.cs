using System;
using System.Collections.Generic;
using System.Linq;
using Rebundle.Naming;

namespace Rebundle.Ec2Endpoint;

/// <summary>
/// The runbook's fleet (<see cref="RunbookFleet"/>, the one description the Sandbox seeds from
/// too) laid out the way docs/aws.md describes: roles as launch templates <c>role/&lt;Role&gt;</c>,
/// farm roles as <c>farm/&lt;Farm&gt;/&lt;Alias&gt;</c>, servers as tagged running instances.
/// </summary>
public static class RunbookSeed
{
    /// <param name="targetGroups">
    /// Also give the RailsAppServer and NodeAppServer farm roles of Dev and Production a target
    /// group each (named by <see cref="RunbookFleet"/>, as the Sandbox's: production-railsappserver; tag ttm:target-groups), their servers registered
    /// and already healthy. Off by default: the tests written before load balancing expect farm
    /// roles without target groups. Null leaves them out; else the settings of every seeded group.
    /// </param>
    public static void Apply(Ec2Fleet fleet, TargetGroupSeed? targetGroups = null)
    {
        var seed = RunbookFleet.Default;
        var images = new Dictionary<string, string>();
        var longAgo = fleet.Settings.Now() - RunbookFleet.Age; // as the Sandbox seeds: images made a month ago
        var roleTemplates = new Dictionary<string, Ec2LaunchTemplate>();
        foreach (var role in seed.Roles)
        {
            if (!images.TryGetValue(role.Image, out var imageId)) imageId = images[role.Image] = fleet.AddImage(role.Image, createdAt: longAgo).Id;
            roleTemplates[role.Name] = fleet.AddLaunchTemplate("role/" + role.Name, RoleData(imageId), Tags(("ttm:kind", "role"), ("ttm:role", role.Name)));
        }

        foreach (var farm in seed.Farms)
        {
            foreach (var farmRole in farm.FarmRoles)
            {
                var farmRoleTemplate = AddFarmRole(fleet, farm.Name, farmRole.Alias, farmRole.Role, farmRole.Count);
                var template = roleTemplates[farmRole.Role];
                var servers = new List<string>();
                for (var index = 1; index <= farmRole.Count; index++)
                    servers.Add(fleet.AddInstance(images[seed.ImageOf(farmRole.Role)], ServerTags(farm.Name, farmRole.Alias, farmRole.Role, index), template.Id).Id);
                if (targetGroups != null && farmRole.TargetGroups.Count > 0)
                {
                    foreach (var name in farmRole.TargetGroups)
                    {
                        fleet.Elbv2.AddTargetGroup(name, targetGroups.DeregistrationDelay, targetGroups.Interval, targetGroups.HealthyThreshold);
                        fleet.Elbv2.AddHealthyTargets(name, servers);
                    }
                    SetTargetGroups(fleet, farmRoleTemplate, farmRole.TargetGroups.ToArray());
                }
            }
        }
    }

    /// <summary>A farm role: launch template <c>farm/&lt;Farm&gt;/&lt;Alias&gt;</c> carrying the farm-role tags.</summary>
    public static Ec2LaunchTemplate AddFarmRole(Ec2Fleet fleet, string farm, string alias, string role, int count) =>
        fleet.AddLaunchTemplate($"farm/{farm}/{alias}", new Dictionary<string, string> { ["InstanceType"] = "t3.small" },
            Tags(("ttm:kind", "farm-role"), ("ttm:farm", farm), ("ttm:alias", alias), ("ttm:role", role), ("ttm:count", count.ToString())));

    /// <summary>Tags a farm-role template with the target groups its servers serve from (ttm:target-groups, comma-separated).</summary>
    public static void SetTargetGroups(Ec2Fleet fleet, Ec2LaunchTemplate farmRole, params string[] targetGroups) =>
        fleet.SetTag(farmRole.Id, "ttm:target-groups", string.Join(",", targetGroups));

    public static IReadOnlyDictionary<string, string> RoleData(string imageId) => new Dictionary<string, string>
    {
        ["ImageId"] = imageId,
        ["InstanceType"] = "t3.small",
        ["KeyName"] = "rebundle",
        ["SecurityGroupId.1"] = "sg-0a1b2c3d4e5f60001",
    };

    public static IEnumerable<KeyValuePair<string, string>> ServerTags(string farm, string alias, string role, int index) =>
        Tags(("Name", $"{farm}/{alias}.{index}"), ("ttm:farm", farm), ("ttm:alias", alias), ("ttm:role", role), ("ttm:index", index.ToString()));

    public static IEnumerable<KeyValuePair<string, string>> Tags(params (string Key, string Value)[] tags) =>
        tags.Select(t => new KeyValuePair<string, string>(t.Key, t.Value)).ToList();
}

/// <summary>How the seeded target groups behave: a target registered is healthy after Interval × HealthyThreshold; a deregistered one drains for DeregistrationDelay.</summary>
public sealed record TargetGroupSeed(TimeSpan DeregistrationDelay, TimeSpan Interval, int HealthyThreshold);

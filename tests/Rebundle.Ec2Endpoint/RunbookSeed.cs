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
    /// <param name="autoScaling">
    /// Also make those load-balanced farm roles Auto Scaling groups (<see cref="AutoScalingSeed"/>):
    /// their servers are the groups' instances. Needs the target groups; without
    /// <paramref name="targetGroups"/> they are made with <see cref="TargetGroupSeed.Default"/>.
    /// </param>
    public static void Apply(Ec2Fleet fleet, TargetGroupSeed? targetGroups = null, AutoScalingSeed? autoScaling = null)
    {
        if (autoScaling != null) targetGroups ??= TargetGroupSeed.Default;
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
                var loadBalanced = targetGroups != null && farmRole.TargetGroups.Count > 0;
                if (loadBalanced)
                {
                    foreach (var name in farmRole.TargetGroups)
                        fleet.Elbv2.AddTargetGroup(name, targetGroups!.DeregistrationDelay, targetGroups.Interval, targetGroups.HealthyThreshold);
                    SetTargetGroups(fleet, farmRoleTemplate, farmRole.TargetGroups.ToArray());
                }
                if (loadBalanced && autoScaling != null)
                {
                    AddAutoScalingGroup(fleet, autoScaling, farm.Name, farmRole, farmRoleTemplate);
                    continue;
                }
                var template = roleTemplates[farmRole.Role];
                var servers = new List<string>();
                for (var index = 1; index <= farmRole.Count; index++)
                    servers.Add(fleet.AddInstance(images[seed.ImageOf(farmRole.Role)], ServerTags(farm.Name, farmRole.Alias, farmRole.Role, index), template.Id).Id);
                if (loadBalanced)
                    foreach (var name in farmRole.TargetGroups) fleet.Elbv2.AddHealthyTargets(name, servers);
            }
        }
    }

    /// <summary>A farm role: launch template <c>farm/&lt;Farm&gt;/&lt;Alias&gt;</c> carrying the farm-role tags.</summary>
    public static Ec2LaunchTemplate AddFarmRole(Ec2Fleet fleet, string farm, string alias, string role, int count) =>
        fleet.AddLaunchTemplate($"farm/{farm}/{alias}", new Dictionary<string, string> { ["InstanceType"] = "t3.small" },
            Tags(("ttm:kind", "farm-role"), ("ttm:farm", farm), ("ttm:alias", alias), ("ttm:role", role), ("ttm:count", count.ToString())));

    /// <summary>
    /// The farm role as an Auto Scaling group "&lt;Farm&gt;-&lt;Alias&gt;" on role/&lt;Role&gt; $Default: min 1,
    /// max and desired its count (so a launch-first recycle must raise max), ELB health checks
    /// without grace, the farm role's tags propagated and each server's Name and ttm:index as the
    /// plain servers have them. Its farm-role template names it (ttm:auto-scaling-group).
    /// </summary>
    private static void AddAutoScalingGroup(Ec2Fleet fleet, AutoScalingSeed seed, string farm, SeedFarmRole farmRole, Ec2LaunchTemplate farmRoleTemplate)
    {
        var name = $"{farm}-{farmRole.Alias}";
        fleet.AutoScaling.AddGroup(name, "role/" + farmRole.Role, "$Default", min: 1, max: farmRole.Count, desired: farmRole.Count,
            targetGroups: farmRole.TargetGroups, healthCheckType: "ELB", healthCheckGracePeriod: TimeSpan.Zero,
            tags: new[] { new AutoScalingTag("ttm:farm", farm, true), new AutoScalingTag("ttm:alias", farmRole.Alias, true), new AutoScalingTag("ttm:role", farmRole.Role, true) },
            instanceTags: index => Tags(("Name", $"{farm}/{farmRole.Alias}.{index}"), ("ttm:index", index.ToString())));
        foreach (var hook in seed.Hooks) fleet.AutoScaling.AddLifecycleHook(name, hook.Name, hook.Transition, hook.HeartbeatTimeout, hook.DefaultResult);
        fleet.SetTag(farmRoleTemplate.Id, "ttm:auto-scaling-group", name);
    }

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
public sealed record TargetGroupSeed(TimeSpan DeregistrationDelay, TimeSpan Interval, int HealthyThreshold)
{
    /// <summary>What --seed-target-groups (Start-TestEc2Endpoint -TargetGroups) uses unless told otherwise: 1 s drain, healthy after 0.2 s × 2.</summary>
    public static TargetGroupSeed Default { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(0.2), 2);
}

/// <summary>The seeded Auto Scaling groups' lifecycle hooks (none by default), added to every group.</summary>
public sealed record AutoScalingSeed
{
    public IReadOnlyList<LifecycleHookSeed> Hooks { get; init; } = Array.Empty<LifecycleHookSeed>();
}

/// <param name="Transition">launching or terminating.</param>
public sealed record LifecycleHookSeed(string Name, string Transition, TimeSpan HeartbeatTimeout, string DefaultResult = "CONTINUE");

using System.Collections.Generic;
using System.Linq;

namespace Rebundle.Ec2Endpoint;

/// <summary>
/// The runbook's fleet laid out the way docs/aws.md describes, the same fleet the Sandbox
/// starts with: farms Rebundle-Staging, Dev and Production; role TTM-Base and the seven
/// production roles, each with a versioned role at 1-6 on the same image; every server running.
/// </summary>
public static class RunbookSeed
{
    public const string BaseRole = "TTM-Base";

    public static readonly string[] ProductionRoles = { "RailsAppServer", "NodeAppServer", "Sidekiq", "Reports", "DataLoad", "DevDebug", "SystemWatcher" };

    public static readonly string[] StagingAliases = { BaseRole, "RailsAppServer", "NodeAppServer", "Sidekiq", "DevDebug", "SystemWatcher" };

    public static readonly string[] FarmAliases = { "RailsAppServer", "NodeAppServer", "Sidekiq", "Reports", "DevDebug", "SystemWatcher" };

    public static void Apply(Ec2Fleet fleet)
    {
        var roleTemplates = new Dictionary<string, Ec2LaunchTemplate>();
        void AddRole(string name, string imageId) => roleTemplates[name] = fleet.AddLaunchTemplate("role/" + name, RoleData(imageId), Tags(("ttm:kind", "role"), ("ttm:role", name)));

        AddRole(BaseRole, fleet.AddImage(BaseRole).Id);
        foreach (var role in ProductionRoles)
        {
            var image = fleet.AddImage(role + "-1-6").Id;
            AddRole(role, image);
            AddRole(role + "-1-6", image);
        }

        void AddFarm(string farm, IEnumerable<string> aliases, System.Func<string, string> roleOf, System.Func<string, int> countOf)
        {
            foreach (var alias in aliases)
            {
                var role = roleOf(alias);
                var count = countOf(alias);
                AddFarmRole(fleet, farm, alias, role, count);
                var template = roleTemplates[role];
                for (var index = 1; index <= count; index++)
                    fleet.AddInstance(template.Versions[0].Data["ImageId"], ServerTags(farm, alias, role, index), template.Id);
            }
        }

        AddFarm("Rebundle-Staging", StagingAliases, _ => BaseRole, _ => 1);
        AddFarm("Dev", FarmAliases, alias => alias, _ => 1);
        AddFarm("Production", FarmAliases, alias => alias, alias => alias == "RailsAppServer" ? 2 : 1);
    }

    /// <summary>A farm role: launch template <c>farm/&lt;Farm&gt;/&lt;Alias&gt;</c> carrying the farm-role tags.</summary>
    public static Ec2LaunchTemplate AddFarmRole(Ec2Fleet fleet, string farm, string alias, string role, int count) =>
        fleet.AddLaunchTemplate($"farm/{farm}/{alias}", new Dictionary<string, string> { ["InstanceType"] = "t3.small" },
            Tags(("ttm:kind", "farm-role"), ("ttm:farm", farm), ("ttm:alias", alias), ("ttm:role", role), ("ttm:count", count.ToString())));

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

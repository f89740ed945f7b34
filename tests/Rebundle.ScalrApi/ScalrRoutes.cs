using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;

namespace Rebundle.ScalrApi;

/// <summary>
/// The APIv2 user-scope routes the Scalr backend uses, with Scalr's object shapes. Called
/// under the world's lock; <c>segments</c> is the path after <c>/api/v1beta0/user/{envId}/</c>.
/// </summary>
internal sealed class ScalrRoutes
{
    private readonly ScalrWorld _world;
    private readonly ScalrApiOptions _options;

    public ScalrRoutes(ScalrWorld world, ScalrApiOptions options)
    {
        _world = world;
        _options = options;
    }

    public ApiResult Handle(string method, string[] s, List<KeyValuePair<string, string>> query, string body, string path)
    {
        var route = string.Join("/", s.Select((part, i) => i % 2 == 1 && s[0] != "actions" ? "{id}" : part));
        switch (method, s.Length > 0 ? s[0] : "", s.Length)
        {
            case ("GET", "farms", 1): return List(_world.Farms.Select(Farm), query, path);
            case ("GET", "farms", 2): return Find(_world.Farms, f => f.Id.ToString() == s[1], "Farm", s[1], f => ApiResult.Data(Farm(f)));
            case ("GET", "farms", 3) when s[2] == "farm-roles":
                return Find(_world.Farms, f => f.Id.ToString() == s[1], "Farm", s[1],
                    f => List(_world.FarmRoles.Where(r => r.FarmId == f.Id).Select(FarmRole), query, path));

            case ("GET", "farm-roles", 2): return Find(_world.FarmRoles, r => r.Id.ToString() == s[1], "FarmRole", s[1], r => ApiResult.Data(FarmRole(r)));
            case ("PATCH", "farm-roles", 2): return Find(_world.FarmRoles, r => r.Id.ToString() == s[1], "FarmRole", s[1], r => PatchFarmRole(r, body));
            case ("GET", "farm-roles", 3) when s[2] == "servers":
                return Find(_world.FarmRoles, r => r.Id.ToString() == s[1], "FarmRole", s[1],
                    r => List(_world.Servers.Where(x => x.FarmRoleId == r.Id).Select(Server), query, path));
            case ("POST", "farm-roles", 3) when s[2] == "servers":
                return Find(_world.FarmRoles, r => r.Id.ToString() == s[1], "FarmRole", s[1], LaunchServer);

            case ("GET", "servers", 1): return List(_world.Servers.Select(Server), query, path);
            case ("GET", "servers", 2): return Find(_world.Servers, x => x.Id == s[1], "Server", s[1], x => ApiResult.Data(Server(x)));
            case ("POST", "servers", 4) when s[2] == "actions" && s[3] == "terminate":
                return Find(_world.Servers, x => x.Id == s[1], "Server", s[1], Terminate);

            case ("GET", "roles", 1): return List(_world.Roles.Select(Role), query, path);
            case ("POST", "roles", 1): return CreateRole(body);
            case ("GET", "roles", 2): return Find(_world.Roles, r => r.Id.ToString() == s[1], "Role", s[1], r => ApiResult.Data(Role(r)));
            case ("DELETE", "roles", 2): return Find(_world.Roles, r => r.Id.ToString() == s[1], "Role", s[1], DeleteRole);
            case ("GET", "roles", 3) when s[2] == "images":
                return Find(_world.Roles, r => r.Id.ToString() == s[1], "Role", s[1], r => List(r.ImageIds.Select(i => RoleImage(r.Id, i)), query, path));
            case ("POST", "roles", 3) when s[2] == "images":
                return Find(_world.Roles, r => r.Id.ToString() == s[1], "Role", s[1], r => AddRoleImage(r, body));
            case ("POST", "roles", 6) when s[2] == "images" && s[4] == "actions" && s[5] == "replace":
                return Find(_world.Roles, r => r.Id.ToString() == s[1], "Role", s[1], r => ReplaceRoleImage(r, s[3], body));

            case ("GET", "images", 1): return List(_world.Images.Select(Image), query, path);
            case ("POST", "images", 1): return RegisterImage(body);
            case ("GET", "images", 2): return Find(_world.Images, i => i.Id == s[1], "Image", s[1], i => ApiResult.Data(Image(i)));
        }
        return ApiResult.Error(404, "EndpointNotFound", $"There is no {method} endpoint {route}.");
    }

    // ---- changes ----

    private ApiResult PatchFarmRole(FarmRoleRecord farmRole, string body)
    {
        var patch = Parse(body);
        if (patch?["role"]?["id"] is JsonNode roleId)
        {
            var role = _world.Roles.FirstOrDefault(r => r.Id.ToString() == roleId.ToString());
            if (role == null) return ApiResult.Error(400, "InvalidValue", $"Role {roleId} does not exist.");
            farmRole.RoleId = role.Id;
        }
        var min = (int?)patch?["scaling"]?["minInstances"] ?? farmRole.MinInstances;
        var max = (int?)patch?["scaling"]?["maxInstances"] ?? farmRole.MaxInstances;
        if (min > max)
            return ApiResult.Error(400, "InvalidValue", $"minInstances ({min}) must not be greater than maxInstances ({max}).");
        farmRole.MinInstances = min;
        farmRole.MaxInstances = max;
        return ApiResult.Data(FarmRole(farmRole));
    }

    /// <summary>
    /// Scalr refuses a launch that would take a farm role past its maxInstances (APIv1's
    /// ServerLaunch: "Max instances limit reached"; APIv2's code for it is assumed, docs/scalr.md).
    /// </summary>
    private ApiResult LaunchServer(FarmRoleRecord farmRole)
    {
        var live = _world.Live(farmRole);
        if (live + 1 > farmRole.MaxInstances)
            return ApiResult.Error(409, "UnacceptableState",
                $"Max instances limit reached: farm role {farmRole.Id} has {live} running or pending servers and maxInstances {farmRole.MaxInstances}. Increase maxInstances of the farm role.");
        return ApiResult.Data(Server(_world.Launch(farmRole)), 201);
    }

    /// <summary>Scalr refuses to terminate twice: 409 UnacceptableState once terminating or terminated.</summary>
    private ApiResult Terminate(ServerRecord server)
    {
        if (server.TerminateRequested != null || _world.Status(server) == "terminated")
            return ApiResult.Error(409, "UnacceptableState", $"Server with id {server.Id} has already been terminated.");
        _world.RequestTerminate(server);
        return ApiResult.Data(Server(server));
    }

    private ApiResult CreateRole(string body)
    {
        var json = Parse(body);
        if (Missing(json, "name", "category", "os") is { } missing) return missing;
        var name = json!["name"]!.GetValue<string>();
        if (!RoleNamePattern.IsMatch(name))
            return ApiResult.Error(400, "InvalidValue", $"Role name '{name}' is not valid: letters, digits and dashes, starting and ending with a letter or digit.");
        // useScalrAgent defaults to true, and then Scalr wants to know the built-in automation.
        if (json["useScalrAgent"]?.GetValue<bool>() != false && json["builtinAutomation"] is not JsonArray)
            return ApiResult.Error(400, "InvalidStructure", "Property 'builtinAutomation' is required when useScalrAgent is true.");
        if (_world.Roles.Any(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)))
            return ApiResult.Error(409, "UnicityViolation", $"Role with name '{name}' already exists.");
        var role = new RoleRecord
        {
            Id = _world.NextId(),
            Name = name,
            OsId = json["os"]!["id"]!.ToString(),
            CategoryId = int.TryParse(json["category"]!["id"]?.ToString(), out var c) ? c : 1,
            BuiltinAutomation = (json["builtinAutomation"] as JsonArray)?.Select(x => x!.ToString()).ToList() ?? new List<string>(),
            Description = json["description"]?.ToString() ?? "",
            Added = _world.Now,
        };
        _world.Roles.Add(role);
        return ApiResult.Data(Role(role), 201);
    }

    private ApiResult DeleteRole(RoleRecord role)
    {
        if (_world.FarmRoles.Any(r => r.RoleId == role.Id))
            return ApiResult.Error(409, "ObjectInUse", $"Role {role.Id} is used by a farm role.");
        _world.Roles.Remove(role);
        return new ApiResult(200, new JsonObject { ["data"] = null });
    }

    /// <summary>Scalr's RoleImage body: <c>{"role": {"id": …}, "image": {"id": …}}</c>; the role must be the one in the path.</summary>
    private static ApiResult? WrongRole(RoleRecord role, JsonNode? body) =>
        body?["role"]?["id"] is JsonNode id && id.ToString() != role.Id.ToString()
            ? ApiResult.Error(400, "InvalidValue", $"Role id {id} in the body does not match role {role.Id} in the path.")
            : null;

    private ApiResult AddRoleImage(RoleRecord role, string body)
    {
        var json = Parse(body);
        if (WrongRole(role, json) is { } wrong) return wrong;
        var imageId = json?["image"]?["id"]?.ToString() ?? "";
        var image = _world.Images.FirstOrDefault(i => i.Id == imageId);
        if (image == null) return ApiResult.Error(404, "ObjectNotFound", $"Image '{imageId}' was not found.");
        if (role.ImageIds.Select(id => _world.Images.First(i => i.Id == id)).Any(i => i.CloudLocation == image.CloudLocation))
            return ApiResult.Error(400, "InvalidValue", $"Role {role.Id} already has an image in {image.CloudLocation}; replace it instead.");
        role.ImageIds.Add(image.Id);
        return ApiResult.Data(RoleImage(role.Id, image.Id), 201);
    }

    private ApiResult ReplaceRoleImage(RoleRecord role, string oldImageId, string body)
    {
        if (!role.ImageIds.Contains(oldImageId))
            return ApiResult.Error(404, "ObjectNotFound", $"Image '{oldImageId}' is not an image of role {role.Id}.");
        var json = Parse(body);
        if (WrongRole(role, json) is { } wrong) return wrong;
        var newId = json?["image"]?["id"]?.ToString() ?? "";
        var newImage = _world.Images.FirstOrDefault(i => i.Id == newId);
        if (newImage == null) return ApiResult.Error(404, "ObjectNotFound", $"Image '{newId}' was not found.");
        var oldImage = _world.Images.First(i => i.Id == oldImageId);
        if (newId == oldImageId)
            return ApiResult.Error(400, "InvalidValue", $"Image {newId} is already the image of role {role.Id}; nothing to replace.");
        if (newImage.CloudLocation != oldImage.CloudLocation)
            return ApiResult.Error(400, "InvalidValue", $"Image {newId} is in {newImage.CloudLocation}; the image it replaces is in {oldImage.CloudLocation}. A replacement must be in the same cloud location.");
        role.ImageIds[role.ImageIds.IndexOf(oldImageId)] = newId;
        return ApiResult.Data(RoleImage(role.Id, newId));
    }

    private ApiResult RegisterImage(string body)
    {
        var json = Parse(body);
        if (Missing(json, "name", "cloudPlatform", "cloudImageId", "architecture", "os") is { } missing) return missing;
        var cloudImageId = json!["cloudImageId"]!.ToString();
        if (_world.Images.Any(i => i.CloudImageId == cloudImageId))
            return ApiResult.Error(409, "UnicityViolation", $"Image {cloudImageId} is already registered.");
        if (_world.Ec2 != null && !_world.Ec2.HasImage(cloudImageId))
            return ApiResult.Error(400, "InvalidValue", $"Image {cloudImageId} was not found in the cloud.");
        var image = _world.AddImage(json["name"]!.ToString(), cloudImageId,
            json["cloudLocation"]?.ToString() ?? _options.Region, json["os"]!["id"]?.ToString() ?? "");
        return ApiResult.Data(Image(image), 201);
    }

    // ---- reads ----

    private static ApiResult Find<T>(IEnumerable<T> items, Func<T, bool> match, string kind, string id, Func<T, ApiResult> then)
    {
        var item = items.FirstOrDefault(match);
        return item == null ? ApiResult.Error(404, "ObjectNotFound", $"{kind} '{id}' was not found.") : then(item);
    }

    /// <summary>
    /// One page of a list. Other query parameters filter on top-level fields (or a reference's
    /// id), as Scalr's list filters do. The next link keeps every parameter.
    /// </summary>
    private ApiResult List(IEnumerable<JsonObject> all, List<KeyValuePair<string, string>> query, string path)
    {
        var filters = query.Where(p => p.Key != "pageNum" && p.Key != "maxResults").ToList();
        var items = all.Where(item => filters.All(f => Matches(item[f.Key], f.Value))).ToList();
        var asked = query.FirstOrDefault(p => p.Key == "maxResults").Value;
        if (asked != null && (!int.TryParse(asked, out var m) || m < 1 || m > 100))
            return ApiResult.Error(400, "InvalidValue", $"maxResults must be between 1 and 100, not {asked}.");
        var size = asked != null ? int.Parse(asked) : _options.PageSize;
        var pageNum = int.TryParse(query.FirstOrDefault(p => p.Key == "pageNum").Value, out var n) && n > 0 ? n : 1;
        var last = Math.Max(1, (items.Count + size - 1) / size);
        string Link(int page) => path + "?" + string.Join("&", filters.Select(f => Uri.EscapeDataString(f.Key) + "=" + Uri.EscapeDataString(f.Value))
            .Append($"maxResults={size}").Append($"pageNum={page}"));
        return new ApiResult(200, new JsonObject
        {
            ["data"] = new JsonArray(items.Skip((pageNum - 1) * size).Take(size).Select(i => (JsonNode)i).ToArray()),
            ["meta"] = new JsonObject { ["totalRecords"] = items.Count },
            ["pagination"] = new JsonObject
            {
                ["first"] = Link(1),
                ["last"] = Link(last),
                ["prev"] = pageNum > 1 ? Link(pageNum - 1) : null,
                ["next"] = pageNum < last ? Link(pageNum + 1) : null,
            },
            ["warnings"] = new JsonArray(),
        });
    }

    private static readonly System.Text.RegularExpressions.Regex RoleNamePattern = new("^[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]$");

    /// <summary>Scalr's 400 InvalidStructure for the first required property absent or null.</summary>
    private static ApiResult? Missing(JsonNode? body, params string[] required)
    {
        var absent = required.FirstOrDefault(name => body?[name] == null);
        return absent == null ? null : ApiResult.Error(400, "InvalidStructure", $"Property '{absent}' is required.");
    }

    private static bool Matches(JsonNode? field, string value) =>
        field is JsonObject reference ? reference["id"]?.ToString() == value : field?.ToString() == value;

    private static JsonNode? Parse(string body) => body.Length == 0 ? null : JsonNode.Parse(body);

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");

    private static JsonObject Ref(object id) => new() { ["id"] = JsonValue.Create(id) };

    private static JsonObject Farm(FarmRecord f) => new()
    {
        ["id"] = f.Id, ["name"] = f.Name, ["description"] = "", ["status"] = f.Status,
        ["project"] = Ref("b0d8c1a4-7b5d-4c6e-9f00-000000000001"), ["owner"] = Ref(1),
        ["timezone"] = "UTC", ["launchOrder"] = "sequential", ["teams"] = new JsonArray(),
    };

    private JsonObject FarmRole(FarmRoleRecord r) => new()
    {
        ["id"] = r.Id, ["alias"] = r.Alias, ["farm"] = Ref(r.FarmId), ["role"] = Ref(r.RoleId),
        ["platform"] = "ec2",
        ["placement"] = new JsonObject { ["placementConfigurationType"] = "AwsClassicPlacementConfiguration", ["region"] = _options.Region },
        ["instance"] = new JsonObject { ["instanceConfigurationType"] = "AwsInstanceConfiguration", ["instanceType"] = Ref("m3.medium") },
        ["scaling"] = new JsonObject { ["enabled"] = true, ["minInstances"] = r.MinInstances, ["maxInstances"] = r.MaxInstances },
    };

    private JsonObject Server(ServerRecord x) => new()
    {
        ["id"] = x.Id, ["cloudServerId"] = x.CloudServerId, ["cloudPlatform"] = "ec2", ["cloudLocation"] = _options.Region,
        ["farm"] = Ref(x.FarmId), ["farmRole"] = Ref(x.FarmRoleId), ["index"] = x.Index, ["status"] = _world.Status(x),
        ["launched"] = Time(x.Launched), ["launchReason"] = x.LaunchReason,
        ["publicIp"] = new JsonArray(), ["privateIp"] = new JsonArray("127.0.0.1"),
        ["hostname"] = $"ip-127-0-0-1.{x.Index}",
    };

    private static JsonObject Role(RoleRecord r) => new()
    {
        ["id"] = r.Id, ["name"] = r.Name, ["description"] = r.Description,
        ["category"] = r.CategoryId == 0 ? null : Ref(r.CategoryId), ["os"] = r.OsId.Length == 0 ? null : Ref(r.OsId),
        ["builtinAutomation"] = new JsonArray(r.BuiltinAutomation.Select(b => (JsonNode)b).ToArray()),
        ["deprecated"] = false, ["scope"] = "environment", ["quickStart"] = false, ["useScalrAgent"] = true,
        ["added"] = Time(r.Added),
    };

    private static JsonObject RoleImage(int roleId, string imageId) => new() { ["role"] = Ref(roleId), ["image"] = Ref(imageId) };

    private static JsonObject Image(ImageRecord i) => new()
    {
        ["id"] = i.Id, ["name"] = i.Name, ["cloudImageId"] = i.CloudImageId, ["cloudPlatform"] = "ec2",
        ["cloudLocation"] = i.CloudLocation, ["architecture"] = "x86_64", ["os"] = Ref(i.OsId),
        ["scope"] = "environment", ["status"] = "active", ["source"] = "Manual", ["deprecated"] = false,
        ["added"] = Time(i.Added),
    };
}

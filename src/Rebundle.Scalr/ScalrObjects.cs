using System.Globalization;
using System.Text.Json;

namespace Rebundle.Scalr
{
    // The parts of Scalr's APIv2 objects the backend uses. Ids are kept as strings whatever
    // JSON kind Scalr uses (numbers for farms, roles and farm roles; UUIDs for servers and images).

    /// <summary>A Scalr farm: <c>{"id": 12, "name": "Dev", "status": "running", …}</c>.</summary>
    public sealed record ScalrFarm(string Id, string Name)
    {
        public static ScalrFarm From(JsonElement e) => new ScalrFarm(Json.Id(e, "id"), Json.Text(e, "name") ?? "");
    }

    /// <summary>A farm role: <c>{"id": 40, "alias": "RailsAppServer", "farm": {"id": 12}, "role": {"id": 7}, "scaling": {"minInstances": 1, …}}</c>.</summary>
    public sealed record ScalrFarmRole(string Id, string Alias, string FarmId, string RoleId, int MinInstances, string? CloudLocation, int? MaxInstances = null)
    {
        public static ScalrFarmRole From(JsonElement e) => new ScalrFarmRole(
            Json.Id(e, "id"),
            Json.Text(e, "alias") ?? "",
            Json.RefId(e, "farm"),
            Json.RefId(e, "role"),
            Json.Int(Json.Child(e, "scaling"), "minInstances") ?? 1,
            Json.Text(Json.Child(e, "placement"), "region"),
            Json.Int(Json.Child(e, "scaling"), "maxInstances"));
    }

    /// <summary>A role: <c>{"id": 7, "name": "RailsAppServer", "os": {"id": "ubuntu-14-04"}, "category": {"id": 1}, "builtinAutomation": ["chef"], …}</c>.</summary>
    public sealed record ScalrRole(string Id, string Name, string? OsId, string? CategoryId, IReadOnlyList<string> BuiltinAutomation, DateTimeOffset? Added, string? Description = null, bool UseScalrAgent = true)
    {
        public static ScalrRole From(JsonElement e) => new ScalrRole(
            Json.Id(e, "id"),
            Json.Text(e, "name") ?? "",
            Json.RefIdOrNull(e, "os"),
            Json.RefIdOrNull(e, "category"),
            Json.Strings(e, "builtinAutomation"),
            Json.Time(e, "added"),
            Json.Text(e, "description"),
            // Scalr's default when the role does not say.
            Json.Child(e, "useScalrAgent").ValueKind != JsonValueKind.False);
    }

    /// <summary>An image registered in Scalr: <c>{"id": "uuid", "cloudImageId": "ami-…", "cloudLocation": "us-east-1", "status": "active", …}</c>.</summary>
    public sealed record ScalrImage(string Id, string Name, string CloudImageId, string? CloudLocation, string? Status, string? StatusError, DateTimeOffset? Added)
    {
        public static ScalrImage From(JsonElement e) => new ScalrImage(
            Json.Id(e, "id"),
            Json.Text(e, "name") ?? "",
            Json.Text(e, "cloudImageId") ?? "",
            Json.Text(e, "cloudLocation"),
            Json.Text(e, "status"),
            Json.Text(e, "statusError"),
            Json.Time(e, "added"));
    }

    /// <summary>A server: <c>{"id": "uuid", "cloudServerId": "i-…", "farm": {"id"}, "farmRole": {"id"}, "index": 1, "status": "running", …}</c>.</summary>
    public sealed record ScalrServer(
        string Id, string CloudServerId, string FarmId, string FarmRoleId, int Index, string Status,
        string? CloudLocation, string? PublicIp, string? PrivateIp, DateTimeOffset? Launched)
    {
        public static ScalrServer From(JsonElement e) => new ScalrServer(
            Json.Id(e, "id"),
            Json.Text(e, "cloudServerId") ?? "",
            Json.RefId(e, "farm"),
            Json.RefId(e, "farmRole"),
            Json.Int(e, "index") ?? 0,
            Json.Text(e, "status") ?? "",
            Json.Text(e, "cloudLocation"),
            Json.FirstString(e, "publicIp"),
            Json.FirstString(e, "privateIp"),
            Json.Time(e, "launched"));
    }

    /// <summary>Tolerant readers: a missing or differently-typed field reads as absent, never throws.</summary>
    internal static class Json
    {
        public static JsonElement Child(JsonElement e, string name) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : default;

        public static string? Text(JsonElement e, string name)
        {
            var v = Child(e, name);
            return v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Number => v.GetRawText(),
                _ => null,
            };
        }

        public static string Id(JsonElement e, string name) => Text(e, name) ?? "";

        /// <summary>The id of a reference object such as <c>"farm": {"id": 12}</c>.</summary>
        public static string RefId(JsonElement e, string name) => RefIdOrNull(e, name) ?? "";

        public static string? RefIdOrNull(JsonElement e, string name) => Text(Child(e, name), "id");

        public static int? Int(JsonElement e, string name)
        {
            var v = Child(e, name);
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n)) return n;
            if (v.ValueKind == JsonValueKind.String && int.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out n)) return n;
            return null;
        }

        public static DateTimeOffset? Time(JsonElement e, string name) =>
            DateTimeOffset.TryParse(Text(e, name), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : (DateTimeOffset?)null;

        public static IReadOnlyList<string> Strings(JsonElement e, string name)
        {
            var v = Child(e, name);
            return v.ValueKind == JsonValueKind.Array
                ? v.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToList()
                : (IReadOnlyList<string>)Array.Empty<string>();
        }

        /// <summary>Scalr gives addresses as lists; a plain string is accepted too.</summary>
        public static string? FirstString(JsonElement e, string name)
        {
            var v = Child(e, name);
            if (v.ValueKind == JsonValueKind.String) return v.GetString();
            return Strings(e, name).FirstOrDefault();
        }
    }
}

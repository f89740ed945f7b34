using System.Text.Json;
using Rebundle.Errors;

namespace Rebundle.Naming
{
    /// <summary>
    /// The runbook's name tables in one place: the known roles, the base role, Procfile lines
    /// to roles (<c>web</c> → <c>RailsAppServer</c>), roles to Chef roles (<c>Sidekiq</c>,
    /// <c>Reports</c> → <c>SidekiqServer</c>), the farms of the runbook and which farms are
    /// protected. Defaults come from the runbook; a JSON configuration file may override any
    /// of them (see docs/configuration.md). Nothing else in the code spells these names.
    /// </summary>
    public sealed class NameTables
    {
        public static readonly NameTables Default = new NameTables();

        private readonly Dictionary<string, string> _procfile;
        private readonly Dictionary<string, string> _chefRoles;

        public NameTables(
            string baseRole = "TTM-Base",
            IEnumerable<string>? productionRoles = null,
            IDictionary<string, string>? procfile = null,
            IDictionary<string, string>? chefRoles = null,
            string stagingFarm = "Rebundle-Staging",
            string testFarm = "Dev",
            string productionFarm = "Production",
            IEnumerable<string>? protectedFarms = null)
        {
            BaseRole = baseRole;
            ProductionRoles = (productionRoles ?? new[] { "RailsAppServer", "NodeAppServer", "Sidekiq", "Reports", "DataLoad", "DevDebug", "SystemWatcher" }).ToList();
            _procfile = new Dictionary<string, string>(procfile ?? new Dictionary<string, string> { ["web"] = "RailsAppServer" }, StringComparer.OrdinalIgnoreCase);
            _chefRoles = new Dictionary<string, string>(chefRoles ?? new Dictionary<string, string> { ["Sidekiq"] = "SidekiqServer", ["Reports"] = "SidekiqServer" }, StringComparer.OrdinalIgnoreCase);
            StagingFarm = stagingFarm;
            TestFarm = testFarm;
            ProductionFarm = productionFarm;
            ProtectedFarms = (protectedFarms ?? new[] { productionFarm }).ToList();
        }

        /// <summary>The base role every staging farm role runs (<c>TTM-Base</c>).</summary>
        public string BaseRole { get; }

        /// <summary>The production roles infrastructure scripts know by name.</summary>
        public IReadOnlyList<string> ProductionRoles { get; }

        /// <summary>All known roles: the base role and the production roles.</summary>
        public IReadOnlyList<string> KnownRoles => new[] { BaseRole }.Concat(ProductionRoles).ToList();

        public string StagingFarm { get; }

        public string TestFarm { get; }

        public string ProductionFarm { get; }

        /// <summary>Farms whose changes always ask for confirmation (ConfirmImpact High).</summary>
        public IReadOnlyList<string> ProtectedFarms { get; }

        public IReadOnlyDictionary<string, string> ProcfileRoles => _procfile;

        public IReadOnlyDictionary<string, string> ChefRoles => _chefRoles;

        /// <summary>The role for a Procfile line: <c>web</c> → <c>RailsAppServer</c>; other lines keep their name.</summary>
        public string RoleForProcfileLine(string line) => _procfile.TryGetValue(line, out var role) ? role : line;

        /// <summary>The Chef role for a role's base name: <c>Sidekiq</c> → <c>SidekiqServer</c>; others keep their name.</summary>
        public string ChefRoleFor(string roleBaseName) => _chefRoles.TryGetValue(roleBaseName, out var chef) ? chef : roleBaseName;

        public bool IsProtectedFarm(string farm) => ProtectedFarms.Contains(farm, StringComparer.OrdinalIgnoreCase);

        /// <summary>
        /// Reads a configuration document; any key left out keeps its default, and the entries of
        /// <c>procfile</c> and <c>chefRoles</c> add to the default entries. Keys:
        /// baseRole, productionRoles[], procfile{}, chefRoles{}, stagingFarm, testFarm,
        /// productionFarm, protectedFarms[].
        /// </summary>
        public static NameTables FromJson(string json, string source = "configuration")
        {
            try
            {
                using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                    throw Invalid(source, "the document must be a JSON object");
                var known = new HashSet<string>(new[] { "baseRole", "productionRoles", "procfile", "chefRoles", "stagingFarm", "testFarm", "productionFarm", "protectedFarms" }, StringComparer.OrdinalIgnoreCase);
                foreach (var property in root.EnumerateObject())
                {
                    if (!known.Contains(property.Name))
                        throw Invalid(source, $"unknown key '{property.Name}' (known keys: {string.Join(", ", known)})");
                }

                var productionFarm = String(root, "productionFarm", source) ?? Default.ProductionFarm;
                return new NameTables(
                    String(root, "baseRole", source) ?? Default.BaseRole,
                    List(root, "productionRoles", source) ?? Default.ProductionRoles,
                    Merged(Default._procfile, Map(root, "procfile", source)),
                    Merged(Default._chefRoles, Map(root, "chefRoles", source)),
                    String(root, "stagingFarm", source) ?? Default.StagingFarm,
                    String(root, "testFarm", source) ?? Default.TestFarm,
                    productionFarm,
                    List(root, "protectedFarms", source) ?? new[] { productionFarm });
            }
            catch (JsonException e)
            {
                throw new TtmException(TtmErrorCode.ConfigInvalid, $"The {source} is not valid JSON: {e.Message}", source, e);
            }
        }

        // A map in the configuration adds to or overrides the default entries; it does not drop the others.
        private static IDictionary<string, string> Merged(IDictionary<string, string> defaults, IDictionary<string, string>? overrides)
        {
            var merged = new Dictionary<string, string>(defaults, StringComparer.OrdinalIgnoreCase);
            foreach (var entry in overrides ?? new Dictionary<string, string>()) merged[entry.Key] = entry.Value;
            return merged;
        }

        private static TtmException Invalid(string source, string why) =>
            new TtmException(TtmErrorCode.ConfigInvalid, $"The {source} is not usable: {why}. Fix the file or remove it to use the runbook's defaults.", source);

        private static JsonElement? Find(JsonElement root, string key)
        {
            foreach (var property in root.EnumerateObject())
                if (string.Equals(property.Name, key, StringComparison.OrdinalIgnoreCase)) return property.Value;
            return null;
        }

        private static string? String(JsonElement root, string key, string source)
        {
            var value = Find(root, key);
            if (value == null) return null;
            if (value.Value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.Value.GetString()))
                throw Invalid(source, $"'{key}' must be a non-empty string");
            return value.Value.GetString();
        }

        private static IReadOnlyList<string>? List(JsonElement root, string key, string source)
        {
            var value = Find(root, key);
            if (value == null) return null;
            if (value.Value.ValueKind != JsonValueKind.Array || value.Value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                throw Invalid(source, $"'{key}' must be a list of strings");
            return value.Value.EnumerateArray().Select(e => e.GetString()!).ToList();
        }

        private static IDictionary<string, string>? Map(JsonElement root, string key, string source)
        {
            var value = Find(root, key);
            if (value == null) return null;
            if (value.Value.ValueKind != JsonValueKind.Object || value.Value.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.String))
                throw Invalid(source, $"'{key}' must map names to names, like {{\"web\": \"RailsAppServer\"}}");
            return value.Value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.OrdinalIgnoreCase);
        }
    }
}

using System.Collections;

namespace Rebundle.PowerShell.Completion
{
    /// <summary>
    /// Tab completion of farm names, farm-role aliases, role names and versions from the
    /// session's connected fleet (through <see cref="FleetNamesCache"/>). It never throws: no
    /// connection, an unreachable backend or anything else unexpected means no completions.
    /// </summary>
    public static class FleetCompleter
    {
        /// <summary>Called by the completer script block that the module registers at import.</summary>
        public static IEnumerable<CompletionResult> Complete(string commandName, string parameterName, string wordToComplete, IDictionary? fakeBoundParameters)
        {
            try
            {
                var fleet = FleetSession.Current?.Fleet;
                if (fleet == null || !CompleterRegistration.Kinds.TryGetValue((Unqualified(commandName), parameterName), out var kind)) return Array.Empty<CompletionResult>();
                var cache = FleetNamesCache.For(fleet);
                var bound = new BoundNames(fakeBoundParameters);
                var word = Unquoted(wordToComplete);
                return kind switch
                {
                    NameKind.Farm => Farms(cache, word),
                    NameKind.FarmRoleAlias => Aliases(cache, word, bound.Values("Farm")),
                    NameKind.StagingAlias => Aliases(cache, word, bound.Values("StagingFarm").DefaultIfEmpty(fleet.Names.StagingFarm).ToList()),
                    NameKind.Role => Roles(cache, word),
                    NameKind.NextVersion => NextVersions(cache, word, bound.Values("Role").Concat(bound.Values("Alias"))),
                    _ => Array.Empty<CompletionResult>(),
                };
            }
            catch (Exception)
            {
                // Tab must never show an error: whatever went wrong, offer nothing.
                return Array.Empty<CompletionResult>();
            }
        }

        private static IEnumerable<CompletionResult> Farms(FleetNamesCache cache, string word) => cache.Farms
            .Where(f => Matches(f.Name, word))
            .OrderBy(f => f.Name, StringComparer.OrdinalIgnoreCase)
            .Select(f => Result(f.Name, $"Farm {f.Name} ({f.FarmRoleCount} farm roles)"))
            .ToList();

        private static IEnumerable<CompletionResult> Aliases(FleetNamesCache cache, string word, IReadOnlyCollection<string> farms) => cache.FarmRoles
            .Where(r => farms.Count == 0 || farms.Any(f => new WildcardPattern(f, WildcardOptions.IgnoreCase).IsMatch(r.Farm)))
            .Where(r => Matches(r.Alias, word))
            .GroupBy(r => r.Alias, StringComparer.OrdinalIgnoreCase)
            .OrderBy(g => g.Key, StringComparer.OrdinalIgnoreCase)
            .Select(g => Result(g.Key, string.Join("; ", g.Select(r => $"{r.Farm}/{r.Alias} runs {r.Role}"))))
            .ToList();

        // Production roles first, then each base name's versions newest first: the likely pick leads.
        private static IEnumerable<CompletionResult> Roles(FleetNamesCache cache, string word) => cache.Roles
            .Where(r => Matches(r.Name, word))
            .OrderBy(r => r.BaseName, StringComparer.OrdinalIgnoreCase)
            .ThenBy(r => r.IsVersioned ? 1 : 0)
            .ThenByDescending(r => r.Version)
            .Select(r => Result(r.Name, $"Role {r.Name}, image {r.ImageId}"))
            .ToList();

        private static IEnumerable<CompletionResult> NextVersions(FleetNamesCache cache, string word, IEnumerable<string> roles)
        {
            var role = roles.FirstOrDefault(r => !WildcardPattern.ContainsWildcardCharacters(r));
            if (role == null) return Array.Empty<CompletionResult>();
            var baseName = RoleName.BaseOf(role);
            var catalog = new RoleCatalog(cache.Roles);
            return new[] { (catalog.NextVersion(baseName, false), "next minor"), (catalog.NextVersion(baseName, true), "next major") }
                .GroupBy(v => v.Item1.ToString()).Select(g => g.First()) // a role without versions starts at 1-0 either way
                .Where(v => Matches(v.Item1.ToString(), word))
                .Select(v => Result(v.Item1.ToString(), $"{baseName}-{v.Item1} ({v.Item2} version)"))
                .ToList();
        }

        private static bool Matches(string name, string word) => name.StartsWith(word, StringComparison.OrdinalIgnoreCase) ||
            (WildcardPattern.ContainsWildcardCharacters(word) && new WildcardPattern(word + "*", WildcardOptions.IgnoreCase).IsMatch(name));

        private static CompletionResult Result(string name, string tooltip) =>
            new CompletionResult(NeedsQuotes(name) ? "'" + name.Replace("'", "''") + "'" : name, name, CompletionResultType.ParameterValue, tooltip);

        private static bool NeedsQuotes(string name) => name.Any(c => char.IsWhiteSpace(c) || "'\"`$(){}[];,|&@#<>".IndexOf(c) >= 0);

        private static string Unquoted(string? word) => (word ?? "").Trim('\'', '"');

        private static string Unqualified(string command)
        {
            var slash = command.LastIndexOf('\\');
            return slash < 0 ? command : command.Substring(slash + 1);
        }

        /// <summary>The values already typed for other parameters, as strings.</summary>
        private sealed class BoundNames
        {
            private readonly IDictionary? _bound;

            public BoundNames(IDictionary? bound) => _bound = bound;

            public IReadOnlyCollection<string> Values(string parameter)
            {
                if (_bound == null || !_bound.Contains(parameter)) return Array.Empty<string>();
                var value = _bound[parameter];
                if (value is PSObject wrapped) value = wrapped.BaseObject;
                return value switch
                {
                    string single => new[] { single },
                    IEnumerable many => many.Cast<object>().Select(v => v is PSObject p ? p.BaseObject : v).OfType<string>().ToList(),
                    _ => Array.Empty<string>(),
                };
            }
        }
    }
}

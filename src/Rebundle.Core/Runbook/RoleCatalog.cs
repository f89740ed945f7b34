using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Naming;

namespace Rebundle.Runbook
{
    /// <summary>
    /// The version rules applied to a list of roles: which versioned role is the latest per
    /// base name, what the next version is, and lookups with helpful misses.
    /// </summary>
    public sealed class RoleCatalog
    {
        private readonly IReadOnlyList<Role> _roles;

        public RoleCatalog(IReadOnlyList<Role> roles) => _roles = roles;

        public IReadOnlyList<Role> All => _roles;

        public Role? Find(string name) => _roles.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));

        public bool Contains(string name) => Find(name) != null;

        /// <summary>The role, or a <see cref="TtmErrorCode.RoleNotFound"/> error that suggests the nearest names.</summary>
        public Role Require(string name) => Find(name) ?? throw NotFound(name);

        public TtmException NotFound(string name) => new TtmException(TtmErrorCode.RoleNotFound,
            $"There is no role named '{name}'." + NameMatcher.SuggestionText(name, _roles.Select(r => r.Name).ToList()) +
            " Run Get-TtmRole -IncludeVersions to list roles.", name);

        public IReadOnlyList<Role> VersionsOf(string baseName) => _roles
            .Where(r => r.IsVersioned && string.Equals(r.BaseName, baseName, StringComparison.OrdinalIgnoreCase))
            .OrderBy(r => r.Version)
            .ToList();

        public Role? LatestOf(string baseName) => VersionsOf(baseName).LastOrDefault();

        /// <summary>The highest versioned role of every base name that has versions.</summary>
        public IReadOnlyList<Role> Latest() => _roles
            .Where(r => r.IsVersioned)
            .GroupBy(r => r.BaseName, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.OrderBy(r => r.Version).Last())
            .OrderBy(r => r.BaseName, StringComparer.OrdinalIgnoreCase)
            .ToList();

        /// <summary><c>2-5</c> → <c>2-6</c>, or <c>3-0</c> when <paramref name="major"/>; <c>1-0</c> when the role has no versions.</summary>
        public RoleVersion NextVersion(string baseName, bool major)
        {
            var latest = LatestOf(baseName);
            return latest == null ? RoleVersion.Initial : latest.Version!.Next(major);
        }

        /// <summary>
        /// Roles selected the way Get-TtmRole selects them: <paramref name="names"/> are base or
        /// versioned names (wildcards allowed). A base name selects the production role and,
        /// with <paramref name="includeVersions"/>, its versions; <paramref name="latest"/>
        /// selects the highest version per base name instead.
        /// </summary>
        public QueryResult<Role> Select(IReadOnlyCollection<string>? names, bool latest, bool includeVersions)
        {
            var misses = new List<TtmException>();
            IEnumerable<Role> candidates = latest ? Latest() : _roles;
            var selected = new List<Role>();
            if (names == null || names.Count == 0)
            {
                selected.AddRange(candidates.Where(r => latest || includeVersions || !r.IsVersioned));
            }
            else
            {
                foreach (var pattern in names)
                {
                    var hits = candidates.Where(r =>
                        NameMatcher.IsMatch(r.Name, pattern) ||
                        ((latest || includeVersions) && NameMatcher.IsMatch(r.BaseName, pattern))).ToList();
                    if (hits.Count == 0 && !NameMatcher.HasWildcard(pattern))
                        misses.Add(latest && Contains(pattern)
                            ? new TtmException(TtmErrorCode.RoleNotFound, $"Role '{pattern}' has no versioned roles yet; snapshot one with New-TtmRoleSnapshot.", pattern)
                            : NotFound(pattern));
                    selected.AddRange(hits);
                }
            }

            var ordered = selected
                .Distinct()
                .OrderBy(r => r.BaseName, StringComparer.OrdinalIgnoreCase)
                .ThenBy(r => r.IsVersioned ? 1 : 0)
                .ThenBy(r => r.Version)
                .ToList();
            return new QueryResult<Role>(ordered, misses);
        }
    }
}

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

        /// <summary>
        /// The base name an operator meant by <paramref name="typed"/>: a base name, or a versioned
        /// name <c>base-X-Y</c>. A name with a number left over before its version
        /// (<c>RailsAppServer-1-6-7</c>) is TtmRoleNameMalformed unless a role of that longer base
        /// exists (<c>Web-2</c>, versioned <c>Web-2-1-0</c>): its "next version" would be a name
        /// nobody wants.
        /// </summary>
        public string BaseOfTyped(string typed)
        {
            var name = RoleName.Parse(typed);
            if (!name.IsVersioned || !TrailingNumber.IsMatch(name.BaseName)) return name.BaseName;
            if (_roles.Any(r => string.Equals(r.BaseName, name.BaseName, StringComparison.OrdinalIgnoreCase) || string.Equals(r.Name, name.BaseName, StringComparison.OrdinalIgnoreCase)))
                return name.BaseName;
            // RailsAppServer-1-6-7 most likely meant its first two numbers: RailsAppServer-1-6.
            var meant = name.BaseName + "-" + name.Version!.Major;
            throw new TtmException(TtmErrorCode.RoleNameMalformed,
                $"'{typed}' is neither a base role name (such as 'RailsAppServer') nor a versioned one ('RailsAppServer-2-5'): it has three numbers at its end, and no role is named '{name.BaseName}'. " +
                $"Give the base name, or a version of two numbers such as '{meant}'.", typed);
        }

        private static readonly System.Text.RegularExpressions.Regex TrailingNumber =
            new System.Text.RegularExpressions.Regex(@"-\d+$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

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

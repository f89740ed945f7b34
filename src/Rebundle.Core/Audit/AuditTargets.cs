using Rebundle.Naming;

namespace Rebundle.Audit
{
    /// <summary>Get-TtmAuditLog -Target: which changes a target pattern finds.</summary>
    public static class AuditTargets
    {
        /// <summary>
        /// A change matches by its target; as '&lt;farm&gt;/&lt;target&gt;' for every farm it touched
        /// (so 'Production/*' finds the role images Production runs); and by every server a batch
        /// named (a batch's target is its farm role, and 'Production/Rails/*' or one server's
        /// Farm/Alias/Server must still find it). No patterns: every change matches.
        /// </summary>
        public static bool Matches(AuditEntry entry, IReadOnlyCollection<string>? patterns) =>
            NameMatcher.MatchesAny(entry.Target, patterns) ||
            entry.Farms.Any(farm => !entry.Target.StartsWith(farm + "/", StringComparison.OrdinalIgnoreCase) && NameMatcher.MatchesAny(farm + "/" + entry.Target, patterns)) ||
            entry.Servers.Any(server => NameMatcher.MatchesAny(server, patterns));
    }
}

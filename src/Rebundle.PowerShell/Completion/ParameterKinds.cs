using System.Reflection;

namespace Rebundle.PowerShell.Completion
{
    /// <summary>
    /// Finds, by convention, which parameters of the module's cmdlets name farms, farm-role
    /// aliases, roles or versions, so every cmdlet (also ones added later) gets completion
    /// without a line in it:
    /// <list type="bullet">
    /// <item>-Farm and any -*Farm (-StagingFarm), and -Name of a *-TtmFarm cmdlet: a farm;</item>
    /// <item>-Alias, and -Role when it also answers to -Alias (Get-TtmServer -Role): a farm-role alias;</item>
    /// <item>any other -Role, and -Name of a *-TtmRole cmdlet: a role, production or versioned;</item>
    /// <item>-Version: the next versions of the role already typed.</item>
    /// </list>
    /// The few parameters the convention gets wrong are listed in <see cref="Exceptions"/>.
    /// </summary>
    internal static class ParameterKinds
    {
        /// <summary>Invoke-TtmRebundle -Role names aliases of the staging farm, not roles.</summary>
        private static readonly (string Command, string Parameter, NameKind Kind)[] Exceptions =
        {
            ("Invoke-TtmRebundle", "Role", NameKind.StagingAlias),
        };

        public static IReadOnlyDictionary<(string Command, string Parameter), NameKind> Discover(Assembly assembly)
        {
            var kinds = new Dictionary<(string, string), NameKind>(new IgnoreCaseKeyComparer());
            foreach (var type in assembly.GetExportedTypes())
            {
                var cmdlet = type.GetCustomAttribute<CmdletAttribute>();
                if (cmdlet == null || type.IsAbstract) continue;
                var command = cmdlet.VerbName + "-" + cmdlet.NounName;
                foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
                {
                    if (!property.GetCustomAttributes<ParameterAttribute>().Any()) continue;
                    var aliases = property.GetCustomAttributes<AliasAttribute>().SelectMany(a => a.AliasNames).ToList();
                    var kind = KindOf(cmdlet.NounName, property.Name, aliases);
                    if (kind != NameKind.None) kinds[(command, property.Name)] = kind;
                }
            }
            foreach (var (command, parameter, kind) in Exceptions)
                if (kinds.ContainsKey((command, parameter))) kinds[(command, parameter)] = kind;
            return kinds;
        }

        private static NameKind KindOf(string noun, string parameter, IReadOnlyCollection<string> aliases)
        {
            bool Is(string name) => string.Equals(parameter, name, StringComparison.OrdinalIgnoreCase);
            bool NounIs(string name) => string.Equals(noun, name, StringComparison.OrdinalIgnoreCase);

            if (parameter.EndsWith("Farm", StringComparison.OrdinalIgnoreCase) || (Is("Name") && NounIs("TtmFarm"))) return NameKind.Farm;
            if (Is("Alias")) return NameKind.FarmRoleAlias;
            if (Is("Role")) return aliases.Contains("Alias", StringComparer.OrdinalIgnoreCase) ? NameKind.FarmRoleAlias : NameKind.Role;
            if (Is("Name") && NounIs("TtmRole")) return NameKind.Role;
            if (Is("Version")) return NameKind.NextVersion;
            return NameKind.None;
        }

        private sealed class IgnoreCaseKeyComparer : IEqualityComparer<(string, string)>
        {
            public bool Equals((string, string) x, (string, string) y) =>
                StringComparer.OrdinalIgnoreCase.Equals(x.Item1, y.Item1) && StringComparer.OrdinalIgnoreCase.Equals(x.Item2, y.Item2);

            public int GetHashCode((string, string) key) =>
                StringComparer.OrdinalIgnoreCase.GetHashCode(key.Item1) * 31 + StringComparer.OrdinalIgnoreCase.GetHashCode(key.Item2);
        }
    }
}

using System.Collections.Concurrent;
using System.Management.Automation.Runspaces;

namespace Rebundle.PowerShell.Completion
{
    /// <summary>
    /// Registers the fleet completers, with Register-ArgumentCompleter, for every parameter
    /// <see cref="ParameterKinds"/> finds: no cmdlet carries completion code. It happens when a
    /// runspace first connects to a fleet, not at import: until then there is nothing to
    /// complete, and Import-Module stays about 50 ms faster (docs/module.md).
    /// </summary>
    internal static class CompleterRegistration
    {
        private const string Completer =
            "param($commandName, $parameterName, $wordToComplete, $commandAst, $fakeBoundParameters) " +
            "[Rebundle.PowerShell.Completion.FleetCompleter]::Complete($commandName, $parameterName, $wordToComplete, $fakeBoundParameters)";

        private static readonly ConcurrentDictionary<Guid, bool> RegisteredRunspaces = new ConcurrentDictionary<Guid, bool>();

        private static readonly Lazy<IReadOnlyDictionary<(string Command, string Parameter), NameKind>> LazyKinds =
            new Lazy<IReadOnlyDictionary<(string Command, string Parameter), NameKind>>(() => ParameterKinds.Discover(typeof(CompleterRegistration).Assembly));

        public static IReadOnlyDictionary<(string Command, string Parameter), NameKind> Kinds => LazyKinds.Value;

        /// <summary>Once per runspace; never fails the caller (completion is a convenience).</summary>
        public static void EnsureRegistered()
        {
            var runspace = Runspace.DefaultRunspace;
            if (runspace == null || !RegisteredRunspaces.TryAdd(runspace.InstanceId, true)) return;
            try
            {
                Register();
            }
            catch (Exception)
            {
                // A constrained or unusual host: cmdlets work, Tab just offers no fleet names.
            }
        }

        /// <summary>A closed runspace is forgotten (its id is never reused; the entry would only pile up).</summary>
        public static void Forget(Guid runspace) => RegisteredRunspaces.TryRemove(runspace, out _);

        private static void Register()
        {
            var script = ScriptBlock.Create(Completer);
            using var shell = System.Management.Automation.PowerShell.Create(RunspaceMode.CurrentRunspace);
            foreach (var byParameter in Kinds.Keys.GroupBy(k => k.Parameter, StringComparer.OrdinalIgnoreCase))
            {
                shell.AddCommand("Register-ArgumentCompleter")
                    .AddParameter("CommandName", byParameter.Select(k => k.Command).ToArray())
                    .AddParameter("ParameterName", byParameter.Key)
                    .AddParameter("ScriptBlock", script)
                    .AddStatement();
            }
            shell.Invoke();
        }
    }
}

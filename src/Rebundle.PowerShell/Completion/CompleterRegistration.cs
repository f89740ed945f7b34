using System.Linq;
using System.Management.Automation;
using System.Reflection;

namespace Rebundle.PowerShell.Completion
{
    /// <summary>
    /// Registers the fleet completers for every parameter <see cref="ParameterKinds"/> finds,
    /// with Register-ArgumentCompleter in the importing session: no cmdlet carries completion code.
    /// </summary>
    internal static class CompleterRegistration
    {
        private const string Completer =
            "param($commandName, $parameterName, $wordToComplete, $commandAst, $fakeBoundParameters) " +
            "[Rebundle.PowerShell.Completion.FleetCompleter]::Complete($commandName, $parameterName, $wordToComplete, $fakeBoundParameters)";

        public static void Register(Assembly assembly)
        {
            var kinds = ParameterKinds.Discover(assembly);
            FleetCompleter.Use(kinds);
            var script = ScriptBlock.Create(Completer);
            using var shell = System.Management.Automation.PowerShell.Create(RunspaceMode.CurrentRunspace);
            foreach (var byParameter in kinds.Keys.GroupBy(k => k.Parameter, System.StringComparer.OrdinalIgnoreCase))
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

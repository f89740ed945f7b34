using System;
using System.Management.Automation;
using Rebundle.PowerShell.Completion;

namespace Rebundle.PowerShell.Module
{
    /// <summary>
    /// Runs when Import-Module loads the cmdlets. Kept light on purpose (docs/module.md): it
    /// reads no file, touches no network and loads no cloud SDK; it only registers Tab
    /// completion in the importing session.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        public void OnImport()
        {
            try
            {
                CompleterRegistration.Register(typeof(ModuleInitializer).Assembly);
            }
            catch (Exception)
            {
                // Completion is a convenience: a host without a current runspace (an
                // InitialSessionState import) still gets every cmdlet, just no Tab help.
            }
        }
    }
}

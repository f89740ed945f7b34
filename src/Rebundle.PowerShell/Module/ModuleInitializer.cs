using System;
using System.Management.Automation;
using Rebundle.PowerShell.Completion;

namespace Rebundle.PowerShell.Module
{
    /// <summary>
    /// Runs when Import-Module loads the cmdlets. Kept light on purpose (docs/module.md): it
    /// reads no file but a folder listing, touches no network and loads no cloud SDK; it sets up
    /// where the dependencies load from and registers Tab completion in the importing session.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        public void OnImport()
        {
            DependencyResolver.Install(typeof(ModuleInitializer).Assembly);
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

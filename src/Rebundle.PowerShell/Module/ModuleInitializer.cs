namespace Rebundle.PowerShell.Module
{
    /// <summary>
    /// Runs when Import-Module loads the cmdlets, and is kept light on purpose (docs/module.md):
    /// it lists one folder and hooks the assembly resolver. No file is read, no network touched,
    /// no backend or cloud SDK loaded; the load context and Tab completion are set up when first
    /// needed (the first dependency asked for, the first Connect-TtmFleet).
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        public void OnImport() => DependencyResolver.Install(typeof(ModuleInitializer).Assembly);

        /// <summary>
        /// Remove-Module: this runspace's connection is closed (its leases released) and, once no
        /// runspace has the module, the assembly resolver is unhooked.
        /// </summary>
        public void OnRemove(PSModuleInfo module)
        {
            Infrastructure.FleetSession.Clear();
            DependencyResolver.Uninstall();
        }
    }
}

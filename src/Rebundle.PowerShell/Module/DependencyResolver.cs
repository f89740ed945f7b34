using System.IO;
using System.Reflection;

namespace Rebundle.PowerShell.Module
{
    /// <summary>
    /// Answers the runtime's "where is assembly X?" for the module's own dependencies, the dlls in
    /// the module's dependencies/ folder, and for nobody else's (docs/module.md):
    /// <list type="bullet">
    /// <item>on PowerShell 7 they load into the module's own AssemblyLoadContext
    /// (Rebundle.PowerShell.LoadContext.dll), so a different AWSSDK.Core or SSH.NET already in the
    /// session neither breaks Rebundle nor is broken by it;</item>
    /// <item>on Windows PowerShell 5.1, which has one context, they load from the folder.</item>
    /// </list>
    /// The pattern is PSResourceGet's: Rebundle.PowerShell.dll, Rebundle.Core.dll and
    /// Rebundle.Remote.dll (whose types the cmdlets expose) stay in the default context;
    /// everything else is found here.
    /// </summary>
    internal static class DependencyResolver
    {
        private const string LoadContextAssembly = "Rebundle.PowerShell.LoadContext.dll";
        private const string LoadContextType = "Rebundle.PowerShell.LoadContext.DependencyLoadContext";
        private static readonly object Gate = new object();
        private static string _moduleFolder = "";
        private static string _folder = "";
        private static Dictionary<string, string> _dependencies = new Dictionary<string, string>();
        private static Func<AssemblyName, Assembly?>? _load;
        private static int _imports;

        /// <summary>"Rebundle" on PowerShell 7, "LoadFrom" on Windows PowerShell (or where the context cannot be made), null in a dev layout without dependencies/.</summary>
        public static string? Mode { get; private set; }

        /// <summary>Once per process: a second Import-Module -Force finds everything in place.</summary>
        public static void Install(Assembly cmdletAssembly)
        {
            lock (Gate)
            {
                _imports++;
                if (Mode != null) return;
                _moduleFolder = Path.GetDirectoryName(cmdletAssembly.Location) ?? "";
                var folder = Path.Combine(_moduleFolder, "dependencies");
                if (!Directory.Exists(folder)) return;
                _dependencies = Directory.EnumerateFiles(folder, "*.dll")
                    .ToDictionary(p => Path.GetFileNameWithoutExtension(p), p => p, StringComparer.OrdinalIgnoreCase);

                _folder = folder;
                Mode = RunsOnDotNetCore() && File.Exists(Path.Combine(_moduleFolder, LoadContextAssembly)) ? "Rebundle" : "LoadFrom";
                AppDomain.CurrentDomain.AssemblyResolve += OnAssemblyResolve;
            }
        }

        /// <summary>
        /// At Remove-Module: when no runspace has the module imported any more, stop answering
        /// for its dependencies. Whatever was loaded stays loaded (a load context is never
        /// unloaded here), and the next Import-Module hooks the resolver again and reuses it.
        /// </summary>
        public static void Uninstall()
        {
            lock (Gate)
            {
                // Counted, because the resolver is the process's while imports are per runspace:
                // removing the module from one runspace must not break another that still uses it.
                _imports = Math.Max(0, _imports - 1);
                if (_imports > 0 || Mode == null) return;
                AppDomain.CurrentDomain.AssemblyResolve -= OnAssemblyResolve;
                Mode = null;
            }
        }

        private static Assembly? OnAssemblyResolve(object? sender, ResolveEventArgs args)
        {
            var name = new AssemblyName(args.Name);
            if (name.Name == null || !_dependencies.ContainsKey(name.Name)) return null;
            // Another module asking for its own AWSSDK.Core gets no answer from us.
            if (args.RequestingAssembly != null && !IsOurs(args.RequestingAssembly)) return null;
            return Loader()(name);
        }

        // Made on the first request, not at import: most sessions that import never need it.
        private static Func<AssemblyName, Assembly?> Loader()
        {
            lock (Gate)
            {
                if (_load == null)
                {
                    var isolated = Mode == "Rebundle" ? TryCreateLoadContext(_folder) : null;
                    if (isolated == null) Mode = "LoadFrom";
                    _load = isolated ?? LoadFromFolder;
                }
                return _load;
            }
        }

        private static bool IsOurs(Assembly assembly)
        {
            var location = assembly.IsDynamic ? "" : assembly.Location;
            return location.StartsWith(_moduleFolder + Path.DirectorySeparatorChar, StringComparison.OrdinalIgnoreCase);
        }

        private static Assembly? LoadFromFolder(AssemblyName name) => Assembly.LoadFrom(_dependencies[name.Name!]);

        private static bool RunsOnDotNetCore() => typeof(object).Assembly.GetType("System.Runtime.Loader.AssemblyLoadContext") != null;

        // A PowerShell 7 older than net8.0 cannot load the context: it falls back to LoadFrom,
        // which works as well as every module without isolation does.
        private static Func<AssemblyName, Assembly?>? TryCreateLoadContext(string folder)
        {
            try { return CreateLoadContext(folder); }
            catch (Exception) { return null; }
        }

        // By reflection: this assembly targets netstandard2.0, which has no AssemblyLoadContext.
        private static Func<AssemblyName, Assembly?>? CreateLoadContext(string folder)
        {
            var path = Path.Combine(_moduleFolder, LoadContextAssembly);
            if (!File.Exists(path)) return null;
            var type = Assembly.LoadFrom(path).GetType(LoadContextType, throwOnError: true)!;
            var context = Activator.CreateInstance(type, folder)!;
            var owns = (Func<AssemblyName, bool>)Delegate.CreateDelegate(typeof(Func<AssemblyName, bool>), context, "Owns");
            var loadByName = type.GetMethod("LoadFromAssemblyName", new[] { typeof(AssemblyName) })!;
            // Assemblies the runtime provides itself are not "owned": the default context answers for those.
            return name => owns(name) ? (Assembly?)loadByName.Invoke(context, new object[] { name }) : null;
        }
    }
}

using System.Collections.Concurrent;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace Rebundle.PowerShell.LoadContext
{
    /// <summary>
    /// Loads the module's dependencies (every dll in its dependencies/ folder: the backends,
    /// AWSSDK.*, SSH.NET and theirs) apart from the rest of the session, so another module
    /// that loaded a different AWSSDK.Core or SSH.NET first cannot break Rebundle, nor Rebundle
    /// them. Two kinds of assembly still come from the default context: those not in the folder
    /// (Rebundle.Core and Rebundle.Remote, whose types the cmdlets and this context share; PowerShell; the runtime),
    /// and those the runtime itself provides at the same or a newer version (System.Text.Json
    /// and friends, shipped only for Windows PowerShell): one copy of those is enough.
    /// </summary>
    public sealed class DependencyLoadContext : AssemblyLoadContext
    {
        private readonly Dictionary<string, string> _dependencies;
        private readonly Dictionary<string, string> _platform;
        private readonly ConcurrentDictionary<string, bool> _fromPlatform = new ConcurrentDictionary<string, bool>(StringComparer.OrdinalIgnoreCase);

        public DependencyLoadContext(string dependencyFolder) : base("Rebundle", isCollectible: false)
        {
            DependencyFolder = dependencyFolder;
            // File names only: no dll is opened until something asks for it (import stays fast).
            _dependencies = Directory.Exists(dependencyFolder)
                ? Directory.EnumerateFiles(dependencyFolder, "*.dll").ToDictionary(p => Path.GetFileNameWithoutExtension(p), p => p, StringComparer.OrdinalIgnoreCase)
                : new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            _platform = ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .GroupBy(p => Path.GetFileNameWithoutExtension(p), StringComparer.OrdinalIgnoreCase)
                .ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);
        }

        public string DependencyFolder { get; }

        /// <summary>True when <paramref name="name"/> is one of the module's own dependencies.</summary>
        public bool Owns(AssemblyName name) => name.Name != null && _dependencies.ContainsKey(name.Name) && !ProvidedByPlatform(name.Name);

        /// <summary>Dependencies of assemblies in this context: ours from our folder, the rest from the default context.</summary>
        protected override Assembly? Load(AssemblyName name) =>
            Owns(name) ? LoadFromAssemblyPath(_dependencies[name.Name!]) : null;

        private bool ProvidedByPlatform(string simpleName) => _fromPlatform.GetOrAdd(simpleName, n =>
        {
            if (!_platform.TryGetValue(n, out var platformPath)) return false;
            var ours = AssemblyName.GetAssemblyName(_dependencies[n]).Version;
            var theirs = AssemblyName.GetAssemblyName(platformPath).Version;
            return theirs != null && ours != null && theirs >= ours;
        });
    }
}

using Rebundle.Backends;
using Rebundle.Naming;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>One backend Connect-TtmFleet can choose: its name, how it connects, where its local leases live.</summary>
    internal sealed class BackendRegistration
    {
        private readonly Func<ConnectTtmFleetCommand, NameTables, IFleetBackend> _connect;
        private readonly Func<IFleetBackend, string?> _leaseFolder;

        public BackendRegistration(string name, Func<ConnectTtmFleetCommand, NameTables, IFleetBackend> connect, Func<IFleetBackend, string?>? leaseFolder = null)
        {
            Name = name;
            _connect = connect;
            _leaseFolder = leaseFolder ?? (_ => null);
        }

        /// <summary>The backend's switch and parameter set on Connect-TtmFleet, e.g. "Aws".</summary>
        public string Name { get; }

        public IFleetBackend Connect(ConnectTtmFleetCommand command, NameTables names) => _connect(command, names);

        /// <summary>Where this backend's local leases live; null for FileLeases' default under ~/.rebundle/leases.</summary>
        public string? LeaseFolder(IFleetBackend backend) => _leaseFolder(backend);
    }

    /// <summary>
    /// The one list of backends (as PSResourceGet's ServerFactory). Adding a backend is one entry
    /// here plus its parameter set on Connect-TtmFleet; nothing else names backends.
    /// </summary>
    internal static class BackendRegistry
    {
        // Each entry calls a NoInlining method of the cmdlet, so a backend's assemblies (the AWS
        // SDK, the Scalr client) load only when that entry is chosen, never when the list is built.
        private static readonly BackendRegistration[] All =
        {
            // The Sandbox's leases sit beside its file, so every session on that Sandbox shares them.
            new BackendRegistration("Sandbox", (command, names) => command.ConnectSandbox(names), backend => System.IO.Path.GetDirectoryName(backend.Location)),
            new BackendRegistration("Scalr", (command, _) => command.ConnectScalr()),
            new BackendRegistration("Aws", (command, _) => command.ConnectAws()),
        };

        public static IReadOnlyList<string> Names => All.Select(b => b.Name).ToList();

        public static BackendRegistration For(string name) =>
            All.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new TtmException(TtmErrorCode.InvalidArgument,
                $"There is no backend named '{name}'. Choose one of: {string.Join(", ", Names)}.", name);
    }
}

using Rebundle.Domain;

namespace Rebundle.Backends
{
    /// <summary>One server is a batch of one: the backends implement batches only, so one path is tested and audited.</summary>
    public static class FleetBackendExtensions
    {
        /// <summary>Launches one more server of the farm role (a replacement). Returns it pending.</summary>
        public static Server LaunchServer(this IFleetBackend backend, FarmRole farmRole, CancellationToken cancellationToken = default) =>
            backend.LaunchServers(farmRole, 1, cancellationToken).Single();

        /// <summary>Terminates the server.</summary>
        public static void TerminateServer(this IFleetBackend backend, Server server, CancellationToken cancellationToken = default) =>
            backend.TerminateServers(new[] { server }, cancellationToken);
    }
}

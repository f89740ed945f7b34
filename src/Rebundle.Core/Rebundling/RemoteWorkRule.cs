using Rebundle.Backends;

namespace Rebundle.Rebundling
{
    /// <summary>
    /// Whether a rebundle is given its remote work (the OS update, the checks): only when the
    /// run needs it — as its journal recorded it when resuming, else as this command asks — and
    /// SSH can reach the servers. A run that needs it and cannot have it is refused by
    /// <see cref="RebundleRunner.RequireReachable"/> before anything is written.
    /// </summary>
    public static class RemoteWorkRule
    {
        /// <summary>The OS update (not skipped) or the checks, as the recorded plan (resuming) or the options say.</summary>
        public static bool Needed(RebundlePlan? recorded, RebundleOptions options) =>
            !(recorded?.SkipOsUpdate ?? options.SkipOsUpdate) || (recorded?.Verify ?? options.Verify);

        /// <summary>
        /// The backend says SSH reaches its servers' addresses (AWS, Scalr; not the Sandbox's
        /// made-up ones), or the operator named the address to connect to (-Address, a real test server).
        /// </summary>
        public static bool Reachable(IFleetBackend backend, bool addressGiven) =>
            addressGiven || backend.Capability<ISshReachableServers>() != null;

        public static bool Applies(RebundlePlan? recorded, RebundleOptions options, IFleetBackend backend, bool addressGiven) =>
            Needed(recorded, options) && Reachable(backend, addressGiven);
    }
}

using Rebundle.Backends;

namespace Rebundle.Scalr
{
    // The Scalr backend's optional capabilities, each its own small part (ScalrBackend.Capability<T>).
    // None changes the fleet, so the audit wrapper forwards each as it is.

    /// <summary>Scalr's servers answer SSH at the addresses it reports: a marker, no state.</summary>
    internal sealed class ScalrSshReachable : ISshReachableServers
    {
        public static readonly ScalrSshReachable Instance = new ScalrSshReachable();
    }

    /// <summary>Long waits poll less and less often, up to six times the first interval (Scalr's rate limit is per key).</summary>
    internal sealed class ScalrPollBackoff : IPollBackoff
    {
        public ScalrPollBackoff(TimeSpan pollInterval) => LongestPollInterval = TimeSpan.FromTicks(pollInterval.Ticks * 6);

        public TimeSpan LongestPollInterval { get; }
    }

    /// <summary>
    /// The fleet report and a recycle's plan read farms, farm roles and roles once, not again
    /// under servers (each a list of pages). The shared answers and their lock are the client's,
    /// which answers the lists and forgets them at any change it sends.
    /// </summary>
    internal sealed class ScalrSharedListReads : ISharedListReads
    {
        private readonly ScalrClient _client;

        public ScalrSharedListReads(ScalrClient client) => _client = client;

        public IDisposable ReadEachListOnce() => _client.ShareLists();
    }
}

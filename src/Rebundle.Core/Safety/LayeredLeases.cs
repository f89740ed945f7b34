namespace Rebundle.Safety
{
    /// <summary>
    /// A local lease first (sessions on this machine, released when the process dies), then the
    /// backend's own (shared with every machine, e.g. a tag with owner and expiry on AWS). Both
    /// or neither: when the backend's is refused, the local one is given back.
    /// </summary>
    public sealed class LayeredLeases : IFarmLeases
    {
        private readonly IFarmLeases _local;
        private readonly IFarmLeases _shared;

        public LayeredLeases(IFarmLeases local, IFarmLeases shared)
        {
            _local = local;
            _shared = shared;
        }

        public string Scope => _shared.Scope + ", and " + _local.Scope;

        public IDisposable AcquireFarms(IReadOnlyCollection<string> farms, string purpose, bool breakExpired) =>
            Both(_local.AcquireFarms(farms, purpose, breakExpired), () => _shared.AcquireFarms(farms, purpose, breakExpired));

        // Journals are files on this machine: the local lock is the whole story.
        public IDisposable AcquireJournal(string journalPath, string purpose) => _local.AcquireJournal(journalPath, purpose);

        private static IDisposable Both(IDisposable first, Func<IDisposable> second)
        {
            try
            {
                var inner = second();
                return new DisposableAction(() =>
                {
                    try { inner.Dispose(); }
                    finally { first.Dispose(); }
                });
            }
            catch
            {
                first.Dispose();
                throw;
            }
        }
    }
}

namespace Rebundle.Safety
{
    /// <summary>Who holds a lease: enough for the operator who is refused to find them.</summary>
    public sealed record LeaseHolder
    {
        public string User { get; init; } = "";

        public string Host { get; init; } = "";

        public int ProcessId { get; init; }

        public DateTimeOffset Since { get; init; }

        /// <summary>After this a lease not renewed may be broken with -Force (leases that can outlive their holder).</summary>
        public DateTimeOffset? Expires { get; init; }

        /// <summary>What it is held for, e.g. "Invoke-TtmRecycle Dev".</summary>
        public string Purpose { get; init; } = "";

        public override string ToString() =>
            $"{User} on {Host} (process {ProcessId}, {Purpose}) since {Since:u}" + (Expires == null ? "" : $", until {Expires:u}");
    }

    /// <summary>
    /// Leases on farms and locks on journals, so two runs never change one farm, or follow one
    /// journal, at once. Taking one already held by someone else is <see cref="Errors.TtmErrorCode.FarmBusy"/>
    /// naming the holder. Leases this process already holds are taken again freely (a rebundle
    /// holds its farms while its recycles lease them too).
    /// </summary>
    public interface IFarmLeases
    {
        /// <summary>Leases every farm in <paramref name="farms"/> (all or none) until the result is disposed.</summary>
        /// <param name="breakExpired">-Force: take over a lease whose holder let it expire.</param>
        IDisposable AcquireFarms(IReadOnlyCollection<string> farms, string purpose, bool breakExpired);

        /// <summary>Locks a journal (by its path) until the result is disposed.</summary>
        IDisposable AcquireJournal(string journalPath, string purpose);

        /// <summary>Where the leases are kept and who sees them, for the docs and Get-TtmFleet.</summary>
        string Scope { get; }
    }

    /// <summary>No leases (tests of the services, and backends that are not shared).</summary>
    public sealed class NoLeases : IFarmLeases
    {
        public static NoLeases Instance { get; } = new NoLeases();

        public string Scope => "none";

        public IDisposable AcquireFarms(IReadOnlyCollection<string> farms, string purpose, bool breakExpired) => new Nothing();

        public IDisposable AcquireJournal(string journalPath, string purpose) => new Nothing();

        private sealed class Nothing : IDisposable
        {
            public void Dispose() { }
        }
    }
}

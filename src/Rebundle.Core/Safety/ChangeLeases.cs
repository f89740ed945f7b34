namespace Rebundle.Safety
{
    /// <summary>
    /// Every change holds the lease on the farms it touches, by construction: the audit asks
    /// <see cref="Hold"/> before it announces a change, so no cmdlet and no runbook step can
    /// change a farm another run holds (it is refused with TtmFarmBusy, and nothing is written).
    /// A command opens a <see cref="CommandLeases"/> scope (<see cref="Open"/>, <see cref="Use"/>):
    /// leases its changes take are kept until the command ends, so a piped run of fifty changes
    /// takes each farm once. Outside a command the lease is taken and given back around the change.
    /// A dry run makes no change, so it never asks for a lease.
    /// </summary>
    public sealed class ChangeLeases
    {
        // Flows to tasks and threads the command starts (a recycle's parallel waits), as the guard's approver does.
        private readonly AsyncLocal<CommandLeases?> _command = new AsyncLocal<CommandLeases?>();

        public ChangeLeases(IFarmLeases leases) => Leases = leases;

        /// <summary>No leases (tests of the services, and backends that are not shared).</summary>
        public static ChangeLeases None { get; } = new ChangeLeases(NoLeases.Instance);

        /// <summary>The leases underneath: farms and journals.</summary>
        public IFarmLeases Leases { get; }

        /// <summary>A scope for one command; <paramref name="purpose"/> (e.g. "Set-TtmFarmRole") names it to whoever is refused.</summary>
        public CommandLeases Open(string purpose) => new CommandLeases(Leases, purpose);

        /// <summary>Makes <paramref name="scope"/> the one changes hold their leases in until the result is disposed.</summary>
        public IDisposable Use(CommandLeases scope)
        {
            var previous = _command.Value;
            _command.Value = scope;
            return new DisposableAction(() => _command.Value = previous);
        }

        /// <summary>
        /// Leases <paramref name="farms"/> for a change about to be made: kept by the command in
        /// scope, else held until the result is disposed. Throws TtmFarmBusy when another run holds one.
        /// </summary>
        public IDisposable Hold(IReadOnlyCollection<string> farms, string purpose)
        {
            if (farms.Count == 0) return new DisposableAction(() => { });
            var command = _command.Value;
            if (command == null) return Leases.AcquireFarms(farms, purpose, breakExpired: false);
            command.Hold(farms, breakExpired: false);
            return new DisposableAction(() => { });
        }
    }

    /// <summary>
    /// The farm leases one command holds: each farm taken once, at its first change (or up front,
    /// as a recycle does), and all given back when the command ends. Safe to use from the
    /// command's worker threads.
    /// </summary>
    public sealed class CommandLeases : IDisposable
    {
        private readonly IFarmLeases _leases;
        private readonly string _purpose;
        private readonly object _gate = new object();
        private readonly HashSet<string> _farms = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        private readonly List<IDisposable> _held = new List<IDisposable>();
        private bool _ended;

        internal CommandLeases(IFarmLeases leases, string purpose)
        {
            _leases = leases;
            _purpose = purpose;
        }

        /// <summary>The farms held so far.</summary>
        public IReadOnlyCollection<string> Farms
        {
            get
            {
                lock (_gate) return _farms.ToList();
            }
        }

        /// <summary>Takes the farms not held yet (all or none); TtmFarmBusy when another run holds one.</summary>
        /// <param name="breakExpired">-Force: take over a lease whose holder let it expire.</param>
        public void Hold(IEnumerable<string> farms, bool breakExpired)
        {
            lock (_gate)
            {
                if (_ended) throw new ObjectDisposedException(nameof(CommandLeases), "The command has ended; its leases are given back.");
                var fresh = farms.Where(f => !_farms.Contains(f)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
                if (fresh.Count == 0) return;
                _held.Add(_leases.AcquireFarms(fresh, $"{_purpose} {string.Join(", ", fresh)}", breakExpired));
                _farms.UnionWith(fresh);
            }
        }

        public void Dispose()
        {
            List<IDisposable> held;
            lock (_gate)
            {
                if (_ended) return;
                _ended = true;
                held = _held.ToList();
                _held.Clear();
                _farms.Clear();
            }
            // Last taken, first given back. One that cannot be given back (EC2 unreachable) must not
            // keep the others nor turn a finished command into an error: it lapses at its expiry,
            // and a file lock goes with the process.
            for (var i = held.Count - 1; i >= 0; i--)
            {
                try { held[i].Dispose(); }
                catch (Exception) { }
            }
        }
    }
}

using Rebundle.Domain;

namespace Rebundle.Runbook
{
    /// <summary>One replacement in flight: launched (or adopted surplus), its old server still serving.</summary>
    internal sealed class InFlight
    {
        public InFlight(Server old, Server replacement, DateTimeOffset since)
        {
            Old = old;
            Replacement = replacement;
            Since = since;
        }

        public Server Old { get; }

        public Server Replacement { get; }

        public DateTimeOffset Since { get; }

        /// <summary>When the replacement was registered in its farm role's target groups; null: not (yet, or no load balancer).</summary>
        public DateTimeOffset? RegisteredAt { get; set; }
    }

    /// <summary>
    /// A server deregistered from its target groups and draining: terminated once it has left every
    /// one. An old server (<see cref="Flight"/> set: its replacement is healthy) or a replacement
    /// that failed its health checks.
    /// </summary>
    internal sealed record Leaving(Server Server, FarmRole FarmRole, InFlight? Flight, Server? Replacement, DateTimeOffset Since);

    /// <summary>Where one farm's recycle stands: what is left to replace, what is in flight, what is done.</summary>
    internal sealed class FarmRecycle
    {
        private readonly Queue<IReadOnlyList<Server>> _batches;
        private readonly Queue<Server> _olds;

        public FarmRecycle(RecyclePlan plan, IReadOnlyDictionary<string, FarmRole> farmRoles)
        {
            Plan = plan;
            FarmRoles = farmRoles;
            Spares = plan.Surplus.Where(s => s.Replaces != null).ToDictionary(s => s.Replaces!.Id, s => s.Server, StringComparer.Ordinal);
            _batches = new Queue<IReadOnlyList<Server>>(plan.Batches);
            _olds = new Queue<Server>(plan.Batches.SelectMany(b => b));
            Window = plan.BatchSize > 0 ? plan.BatchSize : plan.Batches.Select(b => b.Count).DefaultIfEmpty(1).Max();
        }

        public RecyclePlan Plan { get; }

        public string Farm => Plan.Farm;

        public IReadOnlyDictionary<string, FarmRole> FarmRoles { get; }

        /// <summary>Surplus on the current image standing in for an old server: used instead of a launch.</summary>
        public IReadOnlyDictionary<string, Server> Spares { get; }

        /// <summary>Replacements in flight, oldest first.</summary>
        public List<InFlight> Flying { get; } = new List<InFlight>();

        /// <summary>Replacements not yet serving in place of a terminated server: what a stop must take away.</summary>
        public List<Server> NotServing { get; } = new List<Server>();

        public HashSet<string> Adopted { get; } = new HashSet<string>(StringComparer.Ordinal);

        /// <summary>Servers deregistered and draining, to terminate once drained.</summary>
        public List<Leaving> Leaving { get; } = new List<Leaving>();

        /// <summary>Replacements registered in a target group but not yet serving in an old server's place: a stop deregisters them rather than terminating them.</summary>
        public HashSet<string> Registered { get; } = new HashSet<string>(StringComparer.Ordinal);

        public bool Busy => Flying.Count > 0 || Leaving.Count > 0;

        public int Window { get; }

        public int Done { get; set; }

        public int BatchesStarted { get; private set; }

        public bool HasMore => _olds.Count > 0;

        /// <summary>
        /// The old servers to replace now: rolling, as many as the window has room for; lockstep,
        /// the next whole batch once the last one has finished.
        /// </summary>
        public IReadOnlyList<Server> TakeNext(bool lockstep)
        {
            var next = new List<Server>();
            if (lockstep)
            {
                if (Busy || _batches.Count == 0) return next;
                next.AddRange(_batches.Dequeue());
                for (var i = 0; i < next.Count; i++) _olds.Dequeue();
            }
            else
            {
                // A draining old still holds its slot: -BatchSize bounds the servers above the count, and a quota with it.
                while (Flying.Count + Leaving.Count + next.Count < Window && _olds.Count > 0) next.Add(_olds.Dequeue());
            }
            if (next.Count > 0) BatchesStarted++;
            return next;
        }
    }
}

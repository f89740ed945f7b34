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
    }

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
                if (Flying.Count > 0 || _batches.Count == 0) return next;
                next.AddRange(_batches.Dequeue());
                for (var i = 0; i < next.Count; i++) _olds.Dequeue();
            }
            else
            {
                while (Flying.Count + next.Count < Window && _olds.Count > 0) next.Add(_olds.Dequeue());
            }
            if (next.Count > 0) BatchesStarted++;
            return next;
        }
    }
}

using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;

namespace Rebundle.Rebundling
{
    /// <summary>Where one undo change stands, judged from the fleet as it is now.</summary>
    public enum UndoState
    {
        /// <summary>The fleet still shows what the rebundle did: undo puts it back.</summary>
        ToRestore,

        /// <summary>Undo put it back just now.</summary>
        Restored,

        /// <summary>The fleet already shows what was there before the rebundle: nothing to do.</summary>
        AlreadyUndone,

        /// <summary>Someone changed it since to something else: undo leaves it alone.</summary>
        ChangedSince,
    }

    /// <summary>What an undo change puts back.</summary>
    public enum UndoKind
    {
        /// <summary>A role's image.</summary>
        RoleImage,

        /// <summary>The role a farm role runs.</summary>
        FarmRole,
    }

    /// <summary>One change an undo reverses: <see cref="Target"/> goes from <see cref="From"/> back to <see cref="RestoreTo"/>.</summary>
    public sealed record UndoChange
    {
        public UndoKind Kind { get; init; }

        public string Farm { get; init; } = "";

        /// <summary>The role (RoleImage) or the farm role's alias (FarmRole).</summary>
        public string Target { get; init; } = "";

        /// <summary>What the rebundle set.</summary>
        public string From { get; init; } = "";

        /// <summary>What was there before the rebundle.</summary>
        public string RestoreTo { get; init; } = "";

        /// <summary>What the fleet shows now.</summary>
        public string Current { get; init; } = "";

        public UndoState State { get; init; }

        public string Description => Kind == UndoKind.RoleImage
            ? $"Role {Target}: back to image {RestoreTo} (from {From})"
            : $"Farm role {Target} of {Farm}: back to role {RestoreTo} (from {From})";
    }

    /// <summary>
    /// Puts back what a rebundle journal changed: production roles' images, the test farm's
    /// roles and the base role's image — each only where the fleet still shows what the run did —
    /// then recycles only the farm roles whose role or image it put back. Every step is
    /// journalled (undo.restoring, undo.restored, undo.recycled), so a killed undo runs again
    /// and finishes, and a finished one changes nothing. Versioned roles the run made are kept.
    /// </summary>
    public sealed class RebundleUndo
    {
        public const string Step = "undo";
        private readonly Fleet _fleet;
        private readonly IJournal _journal;
        private readonly IRunbookReporter _reporter;
        private RebundlePlan? _plan;

        public RebundleUndo(Fleet fleet, IJournal journal, IRunbookReporter reporter)
        {
            _fleet = fleet;
            _journal = journal;
            _reporter = reporter;
        }

        private RebundlePlan RunPlan => _plan ??= RebundleRunner.RecordedPlan(_journal)
            ?? throw new TtmException(TtmErrorCode.InvalidArgument, $"{_journal.Location} is not a Rebundle journal (it has no plan).", _journal.Location);

        /// <summary>Every change the journal records, each with its state in the fleet now.</summary>
        public IReadOnlyList<UndoChange> Plan()
        {
            var plan = RunPlan;
            var roles = _fleet.Backend.GetRoles().ToDictionary(r => r.Name, r => r.ImageId, StringComparer.OrdinalIgnoreCase);
            var farmRoles = _fleet.Backend.GetFarmRoles().ToDictionary(r => r.Farm + "/" + r.Alias, r => r.Role, StringComparer.OrdinalIgnoreCase);
            var changes = new List<UndoChange>();
            // The first "before" per target is the state before the rebundle touched it.
            foreach (var promoted in FirstPer("promote", "promoting", "role"))
                changes.Add(Judge(UndoKind.RoleImage, plan.ProductionFarm, promoted["role"]!, promoted["after"]!, promoted["before"]!, roles));
            foreach (var swapped in FirstPer("swap-test", "swapping", "alias"))
                changes.Add(Judge(UndoKind.FarmRole, swapped["farm"]!, swapped["alias"]!, swapped["after"]!, swapped["before"]!, farmRoles, swapped["farm"] + "/"));
            foreach (var before in FirstPer("base-image", "before", "role"))
            {
                var after = BaseImageAfter(before["role"]!);
                if (after != null) changes.Add(Judge(UndoKind.RoleImage, plan.StagingFarm, before["role"]!, after, before["imageId"]!, roles));
            }
            return changes;
        }

        /// <summary>The farms a change touches: every farm running the role whose image goes back, or the farm role's farm.</summary>
        public IReadOnlyList<string> AffectedFarms(UndoChange change) => change.Kind == UndoKind.RoleImage
            ? _fleet.Backend.GetFarmRoles().Where(r => Same(r.Role, change.Target)).Select(r => r.Farm).Distinct(StringComparer.OrdinalIgnoreCase).ToList()
            : new[] { change.Farm };

        /// <summary>Puts one change back, journalled before and after; returns it as Restored.</summary>
        public UndoChange Apply(UndoChange change) => Apply(change, CancellationToken.None);

        /// <summary>As <see cref="Apply(UndoChange)"/>; Ctrl+C (<paramref name="cancellation"/>) reaches the backend call.</summary>
        public UndoChange Apply(UndoChange change, CancellationToken cancellation)
        {
            if (change.State != UndoState.ToRestore) return change;
            var data = new Dictionary<string, string>
            {
                ["kind"] = change.Kind.ToString(), ["farm"] = change.Farm, ["target"] = change.Target, ["from"] = change.From, ["to"] = change.RestoreTo,
                // Which farm roles must be recycled onto it, decided now: a killed undo still knows.
                ["recycle"] = string.Join(",", FarmRolesToRecycle(change)),
            };
            Append("restoring", data);
            var service = new RoleAssignmentService(_fleet);
            if (change.Kind == UndoKind.RoleImage) service.Apply(service.PlanRoleImage(change.Target, change.RestoreTo), cancellation);
            else service.Apply(service.PlanFarmRole(change.Farm, change.RestoreTo, change.Target), cancellation);
            Append("restored", data);
            _reporter.Verbose(change.Description);
            return change with { State = UndoState.Restored, Current = change.RestoreTo };
        }

        /// <summary>Farm roles (Farm/Alias) an undo put back and has not yet recycled, this run's or a killed one's.</summary>
        public IReadOnlyList<(string Farm, string Alias)> PendingRecycles()
        {
            var done = new HashSet<string>(Events("recycled").Select(e => e["farm"] + "/" + e["alias"]), StringComparer.OrdinalIgnoreCase);
            return Events("restoring")
                .SelectMany(e => (e["recycle"] ?? "").Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries))
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .Where(key => !done.Contains(key))
                .Select(key => (key.Substring(0, key.LastIndexOf('/')), key.Substring(key.LastIndexOf('/') + 1)))
                .ToList();
        }

        /// <summary>
        /// Replaces the farm role's servers that do not run its role's image (those the
        /// rebundle put there); servers already on it stay. Journalled once done.
        /// </summary>
        public IReadOnlyList<RecycledServer> Recycle(string farm, string alias, int batchSize, TimeSpan timeout, CancellationToken cancellation)
        {
            var farmRole = _fleet.RequireFarmRole(farm, alias, cancellation);
            var image = _fleet.Roles(cancellation).Require(farmRole.Role).ImageId;
            var stale = _fleet.GetServers(new[] { farm }, new[] { alias }, null, cancellation).Items
                .Where(s => s.Status != ServerStatus.Terminated && s.ImageId != image).Select(s => s.Id).ToList();
            var recycled = new List<RecycledServer>();
            if (stale.Count > 0)
            {
                var service = new RecycleService(_fleet, _reporter);
                foreach (var plan in service.Plan(new[] { farm }, new[] { alias }, batchSize, stale, cancellation).Items)
                    recycled.AddRange(service.Execute(plan, timeout, cancellation));
            }
            Append("recycled", new Dictionary<string, string> { ["farm"] = farm, ["alias"] = alias, ["servers"] = recycled.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            return recycled;
        }

        /// <summary>
        /// The farm roles that pick up a change: those running the role whose image goes back, or
        /// the farm role put back. The staging farm is left alone: its servers matter only to
        /// the next rebundle, which recycles it first anyway.
        /// </summary>
        private IEnumerable<string> FarmRolesToRecycle(UndoChange change) =>
            (change.Kind == UndoKind.RoleImage
                ? _fleet.Backend.GetFarmRoles().Where(r => Same(r.Role, change.Target)).Select(r => (r.Farm, r.Alias))
                : new[] { (change.Farm, Alias: change.Target) })
            .Where(r => !Same(r.Farm, RunPlan.StagingFarm))
            .Select(r => r.Farm + "/" + r.Alias);

        private static UndoChange Judge(UndoKind kind, string farm, string target, string after, string before, IReadOnlyDictionary<string, string> now, string prefix = "")
        {
            var current = now.TryGetValue(prefix + target, out var value) ? value : "";
            var state = Same(current, after) ? UndoState.ToRestore : Same(current, before) ? UndoState.AlreadyUndone : UndoState.ChangedSince;
            return new UndoChange { Kind = kind, Farm = farm, Target = target, From = after, RestoreTo = before, Current = current, State = state };
        }

        /// <summary>The image step 1 gave the base role: recorded when it was set, or the image it started if the crash came first.</summary>
        private string? BaseImageAfter(string role) =>
            _journal.Entries.LastOrDefault(e => e.Step == "base-image" && e.Event == "replaced" && Same(e["role"], role))?["after"]
            ?? _journal.Entries.LastOrDefault(e => e.Step == "base-image" && e.Event == "image" && Same(e["role"], role))?["imageId"];

        private IEnumerable<JournalEntry> Events(string @event) => _journal.Entries.Where(e => e.Step == Step && e.Event == @event);

        private void Append(string @event, IReadOnlyDictionary<string, string> data) =>
            _journal.Append(new JournalEntry { At = _fleet.Backend.Clock.UtcNow, Step = Step, Event = @event, Data = data });

        private IEnumerable<JournalEntry> FirstPer(string step, string @event, string key) =>
            _journal.Entries.Where(e => e.Step == step && e.Event == @event).GroupBy(e => e[key]).Select(g => g.First());

        private static bool Same(string? a, string? b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
    }
}

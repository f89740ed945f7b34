using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Rebundle.Errors;
using Rebundle.Runbook;

namespace Rebundle.Rebundling
{
    /// <summary>One change an undo will reverse.</summary>
    public sealed record UndoChange(string Kind, string Farm, string Target, string RestoreTo, string Description);

    /// <summary>
    /// Puts back what a rebundle journal changed: production roles' images, the test farm's
    /// roles, and the base role's image — each to what it was before the rebundle — then
    /// recycles the farms whose servers must pick that up. Versioned roles it made are kept
    /// (they harm nothing and can be retired with Remove-TtmRoleVersion).
    /// </summary>
    public sealed class RebundleUndo
    {
        private readonly Fleet _fleet;
        private readonly IJournal _journal;
        private readonly IRunbookReporter _reporter;
        private string _stagingFarm = "";
        private RoleAssignmentService? _assignments;

        public RebundleUndo(Fleet fleet, IJournal journal, IRunbookReporter reporter)
        {
            _fleet = fleet;
            _journal = journal;
            _reporter = reporter;
        }

        public IReadOnlyList<UndoChange> Plan()
        {
            var planEntry = _journal.Entries.FirstOrDefault(e => e.Step == RebundleRunner.PlanStep)
                ?? throw new TtmException(TtmErrorCode.InvalidArgument, $"{_journal.Location} is not a Rebundle journal (it has no plan).", _journal.Location);
            var plan = RebundlePlan.FromData(planEntry.Data);
            _stagingFarm = plan.StagingFarm;
            var changes = new List<UndoChange>();
            // The first "before" per target is the state before the rebundle touched it.
            foreach (var promoted in FirstPer("promote", "promoting", "role"))
                changes.Add(new UndoChange("RoleImage", plan.ProductionFarm, promoted["role"]!, promoted["before"]!,
                    $"Role {promoted["role"]}: back to image {promoted["before"]} (from {promoted["after"]})"));
            foreach (var swapped in FirstPer("swap-test", "swapping", "alias"))
                changes.Add(new UndoChange("FarmRole", swapped["farm"]!, swapped["alias"]!, swapped["before"]!,
                    $"Farm role {swapped["alias"]} of {swapped["farm"]}: back to role {swapped["before"]} (from {swapped["after"]})"));
            foreach (var before in FirstPer("base-image", "before", "role"))
                if (_journal.Entries.Any(e => e.Step == "base-image" && (e.Event == "replaced" || e.Event == "done")))
                    changes.Add(new UndoChange("RoleImage", plan.StagingFarm, before["role"]!, before["imageId"]!,
                        $"Role {before["role"]}: back to image {before["imageId"]}"));
            return changes;
        }

        /// <summary>
        /// The farms to recycle after the changes: those running a role whose image was put back,
        /// and those whose farm roles were put back. The staging farm is left alone: its servers
        /// matter only to the next rebundle, which recycles it first anyway.
        /// </summary>
        public IReadOnlyList<string> FarmsToRecycle(IReadOnlyList<UndoChange> changes)
        {
            var restoredImages = changes.Where(c => c.Kind == "RoleImage").Select(c => c.Target).ToList();
            return _fleet.Backend.GetFarmRoles()
                .Where(r => restoredImages.Contains(r.Role, StringComparer.OrdinalIgnoreCase))
                .Select(r => r.Farm)
                .Concat(changes.Where(c => c.Kind == "FarmRole").Select(c => c.Farm))
                .Where(f => !string.Equals(f, _stagingFarm, StringComparison.OrdinalIgnoreCase))
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .OrderBy(f => f, StringComparer.OrdinalIgnoreCase)
                .ToList();
        }

        public void Apply(UndoChange change)
        {
            var service = _assignments ??= new RoleAssignmentService(_fleet);
            if (change.Kind == "RoleImage") service.Apply(service.PlanRoleImage(change.Target, change.RestoreTo));
            else service.Apply(service.PlanFarmRole(change.Farm, change.RestoreTo, change.Target));
            _journal.Append(new JournalEntry
            {
                At = _fleet.Backend.Clock.UtcNow, Step = "undo", Event = "restored",
                Data = new Dictionary<string, string> { ["kind"] = change.Kind, ["farm"] = change.Farm, ["target"] = change.Target, ["to"] = change.RestoreTo },
            });
            _reporter.Verbose(change.Description);
        }

        public IReadOnlyList<RecycledServer> Recycle(string farm, int batchSize, TimeSpan timeout, CancellationToken cancellation)
        {
            var service = new RecycleService(_fleet, _reporter);
            return service.Plan(new[] { farm }, null, batchSize).Items.SelectMany(p => service.Execute(p, timeout, cancellation)).ToList();
        }

        private IEnumerable<JournalEntry> FirstPer(string step, string @event, string key) =>
            _journal.Entries.Where(e => e.Step == step && e.Event == @event).GroupBy(e => e[key]).Select(g => g.First());
    }
}

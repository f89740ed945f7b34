using Rebundle.PowerShell.Infrastructure.Files;
using Rebundle.Rebundling;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Puts back what a rebundle changed, from its journal: production roles' images, the test
    /// farm's roles and the base role's image, where the fleet still shows the rebundle's change;
    /// then recycles the farm roles it put back. Running it again changes nothing.
    /// </summary>
    [Cmdlet(VerbsCommon.Undo, "TtmRebundle", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpPages.Root + "Undo-TtmRebundle.md")]
    [OutputType(typeof(UndoChange), typeof(RecycledServer))]
    public sealed class UndoTtmRebundleCommand : TtmCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Journal { get; set; } = "";

        /// <summary>Put the roles back but do not recycle.</summary>
        [Parameter]
        public SwitchParameter NoRecycle { get; set; }

        [Parameter]
        [ValidateRange(1, 1000)]
        public int BatchSize { get; set; } = 1;

        [Parameter]
        [ValidateTimeSpanRange("0:00:01", "7.00:00:00")]
        [TimeSpanArgument]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(30);

        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void Process()
        {
            var path = GetUnresolvedProviderPathFromPSPath(Journal);
            var whatIf = IsDryRun;
            // Not while the rebundle itself (or another undo) follows this journal or changes its farms.
            using var journalLock = whatIf ? null : Fleet.Leases.AcquireJournal(path, $"Undo-TtmRebundle {path}");
            var journal = FileJournal.Open(path, WriteWarning);
            var recorded = RebundleRunner.RecordedPlan(journal);
            if (recorded != null) LeaseFarms(new[] { recorded.StagingFarm, recorded.TestFarm, recorded.ProductionFarm }, breakExpired: false);
            var undo = new RebundleUndo(Fleet, journal, Reporter);
            var changes = undo.Plan();
            if (changes.Count == 0)
            {
                WriteWarning($"The journal {Journal} records no change to roles or farm roles; nothing to undo.");
                return;
            }
            // Every change is approved before any is made, so a refused one (a role Production runs,
            // in a session that cannot ask) leaves the rebundle as it was, not half undone.
            var unapproved = 0;
            foreach (var change in changes)
            {
                if (change.State == UndoState.ChangedSince)
                    WriteWarning($"{change.Description}: left alone, it was changed since to {change.Current}. Put it back by hand if that change was not wanted.");
                // The guard is asked about every farm the change touches (a role's image: every farm running it).
                if (change.State == UndoState.ToRestore && !ShouldChange(change.Target, change.Description, undo.AffectedFarms(change), Force)) unapproved++;
            }
            if (unapproved > 0)
            {
                if (!whatIf) WriteWarning($"Nothing was undone: {unapproved} of the changes in {Journal} were not approved, and an undo is made whole or not at all.");
                return;
            }
            var restored = 0;
            foreach (var change in changes)
            {
                var result = undo.Apply(change, Cancellation);
                if (result.State == UndoState.Restored) restored++;
                WriteObject(result);
            }
            var recycled = NoRecycle ? 0 : RecyclePending(undo);
            if (restored == 0 && recycled == 0 && changes.All(c => c.State != UndoState.ToRestore))
                WriteWarning($"The rebundle in {Journal} is already undone: nothing was changed and nothing recycled.");
        }

        /// <summary>Recycles the farm roles this undo (or a killed one) put back; returns how many it did.</summary>
        private int RecyclePending(RebundleUndo undo)
        {
            var count = 0;
            foreach (var (farm, alias) in undo.PendingRecycles())
            {
                if (!ShouldChange($"{farm}/{alias}", $"Recycle farm role {alias} of {farm} onto its restored role", new[] { farm }, Force)) continue;
                foreach (var recycled in undo.Recycle(farm, alias, BatchSize, Timeout, Cancellation)) WriteObject(recycled);
                count++;
            }
            return count;
        }
    }
}

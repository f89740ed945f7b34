using System;
using System.Linq;
using System.Management.Automation;
using Rebundle.Errors;
using Rebundle.PowerShell.Infrastructure;
using Rebundle.PowerShell.Infrastructure.Files;
using Rebundle.Rebundling;
using Rebundle.Runbook;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Puts back what a rebundle changed, from its journal: production roles' images, the test
    /// farm's roles and the base role's image; then recycles the farms that must pick it up.
    /// </summary>
    [Cmdlet(VerbsCommon.Undo, "TtmRebundle", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
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
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(30);

        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void Process()
        {
            var undo = new RebundleUndo(Fleet, FileJournal.Open(GetUnresolvedProviderPathFromPSPath(Journal)), Reporter);
            var changes = undo.Plan();
            if (changes.Count == 0)
            {
                WriteWarning($"The journal {Journal} records no change to roles or farm roles; nothing to undo.");
                return;
            }
            var applied = changes.Where(c => ShouldChange(c.Target, c.Description, new[] { c.Farm }, Force)).ToList();
            foreach (var change in applied)
            {
                undo.Apply(change);
                WriteObject(change);
            }
            if (NoRecycle || applied.Count == 0) return;
            foreach (var farm in undo.FarmsToRecycle(applied))
            {
                if (!ShouldChange("farm " + farm, $"Recycle farm {farm} onto the restored roles", new[] { farm }, Force)) continue;
                foreach (var recycled in undo.Recycle(farm, BatchSize, Timeout, Cancellation)) WriteObject(recycled);
            }
        }
    }
}

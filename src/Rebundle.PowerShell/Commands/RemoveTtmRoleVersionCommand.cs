using Rebundle.PowerShell.Infrastructure.Files;
using Rebundle.Rebundling;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Retires old versioned roles: keeps the newest -KeepLatest versions of each role, any
    /// version a farm role runs, and any a recent rebundle's undo needs; deletes the others and,
    /// where no other role uses it, their image.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "TtmRoleVersion", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpPages.Root + "Remove-TtmRoleVersion.md")]
    [OutputType(typeof(Role))]
    public sealed class RemoveTtmRoleVersionCommand : TtmCmdlet
    {
        [Parameter(Mandatory = true)]
        [ValidateRange(1, 1000)]
        public int KeepLatest { get; set; }

        /// <summary>Only versions of these base names (wildcards allowed); default: every role.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("BaseName")]
        [SupportsWildcards]
        public string[]? Role { get; set; }

        /// <summary>Rebundles younger than this stay undoable: what their undo needs is kept.</summary>
        [Parameter]
        [TimeSpanArgument]
        public TimeSpan KeepUndoFor { get; set; } = UndoNeeds.DefaultKeep;

        /// <summary>Rebundle journals (files or folders) whose undo to protect; default ~/.rebundle/journals.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? JournalPath { get; set; }

        /// <summary>Do not ask, and retire even what a recent rebundle's undo needs.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void Process()
        {
            if (KeepUndoFor < TimeSpan.Zero)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"-KeepUndoFor must be zero or more; got {KeepUndoFor}.", KeepUndoFor);
            var service = new RoleRetirementService(Fleet);
            foreach (var miss in service.Misses(Role)) WriteTtmError(miss);
            var undoNeeds = Force ? null : JournalUndoNeeds.Read(this, JournalPath, KeepUndoFor, Fleet, deleting: true);
            var (retire, kept) = service.Plan(KeepLatest, Role, undoNeeds);
            if (retire.Count > 0 && !IsDryRun)
            {
                // A version is retired only while no farm runs it. Holding every farm keeps it so
                // until it is gone: no run can put it on a farm between the check and the deletion.
                LeaseFarms(Fleet.Backend.GetFarms(Cancellation).Select(f => f.Name).ToList(), breakExpired: false);
                (retire, kept) = service.Plan(KeepLatest, Role, undoNeeds);
            }
            foreach (var keep in kept)
            {
                if (keep.Journal != null)
                    WriteWarning($"Kept {keep.Role.Name}: {keep.Reason}. Pass -Force (or a shorter -KeepUndoFor) to retire it anyway; that rebundle could then not be undone.");
                else
                    WriteVerbose($"Keeping {keep.Role.Name}: {keep.Reason}.");
            }
            foreach (var retirement in retire)
            {
                if (!ShouldChange(retirement.Role.Name, retirement.Description, System.Array.Empty<string>(), Force, alwaysAsk: true)) continue;
                try
                {
                    service.Apply(retirement, Cancellation);
                    WriteObject(retirement.Role);
                }
                catch (TtmException e)
                {
                    WriteTtmError(e);
                }
            }
        }
    }
}

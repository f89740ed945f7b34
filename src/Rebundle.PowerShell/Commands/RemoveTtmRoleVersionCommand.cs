using System.Management.Automation;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.PowerShell.Infrastructure;
using Rebundle.Rebundling;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Retires old versioned roles: keeps the newest -KeepLatest versions of each role and any
    /// version a farm role runs; deletes the others and, where no other role uses it, their image.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "TtmRoleVersion", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
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

        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void Process()
        {
            var service = new RoleRetirementService(Fleet);
            var (retire, kept) = service.Plan(KeepLatest, Role);
            foreach (var keep in kept) WriteVerbose($"Keeping {keep.Role.Name}: {keep.Reason}.");
            foreach (var retirement in retire)
            {
                if (!ShouldChange(retirement.Role.Name, retirement.Description, System.Array.Empty<string>(), Force, alwaysAsk: true)) continue;
                try
                {
                    service.Apply(retirement);
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

namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Swaps a role into a farm (runbook step 6): the farm role whose alias matches the role's
    /// base name (or -Alias) now runs that role. Servers pick it up when recycled.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "TtmFarmRole", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpPages.Root + "Set-TtmFarmRole.md")]
    [OutputType(typeof(FarmRole))]
    public sealed class SetTtmFarmRoleCommand : TtmCmdlet
    {
        private int _received;
        private RoleAssignmentService? _service;

        /// <summary>One service for the whole pipeline: it reads the fleet once.</summary>
        private RoleAssignmentService Service => _service ??= new RoleAssignmentService(Fleet);

        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Farm { get; set; } = "";

        /// <summary>The role to run, e.g. RailsAppServer-1-7; binds from a piped role's Name.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ValidateNotNullOrEmpty]
        public string Role { get; set; } = "";

        /// <summary>The farm role to change; default: the role's base name.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Alias { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void Begin() => Farm = Fleet.RequireFarm(Farm);

        protected override void Process()
        {
            _received++;
            try
            {
                var change = Service.PlanFarmRole(Farm, Role, Alias);
                if (change.IsNoOp)
                {
                    WriteVerbose($"Farm role {change.FarmRole.Alias} of farm {Farm} already runs {change.NewRole}.");
                    if (PassThru) WriteObject(change.FarmRole);
                    return;
                }
                if (!ShouldChange($"{Farm}/{change.FarmRole.Alias}", change.Description, new[] { Farm }, Force)) return;
                var changed = Service.Apply(change, Cancellation);
                if (PassThru) WriteObject(changed);
            }
            catch (TtmException e) when (e.Code == TtmErrorCode.FarmRoleNotFound && MyInvocation.ExpectingInput && Alias == null)
            {
                // Piping every role (Get-TtmRole -Latest) into a farm that runs only some of them is normal.
                WriteWarning($"Farm {Farm} has no farm role aliased {RoleName.BaseOf(Role)}; role {Role} was skipped.");
            }
            catch (TtmException e)
            {
                WriteTtmError(e);
            }
        }

        protected override void End()
        {
            if (_received == 0)
                WriteTtmError(new TtmException(TtmErrorCode.EmptyInput,
                    "No role came down the pipeline, so no farm role was changed. Check the command in front, e.g. Get-TtmRole -Latest."));
        }
    }
}

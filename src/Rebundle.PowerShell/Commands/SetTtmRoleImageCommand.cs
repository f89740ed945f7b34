namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Points a role at another image (runbook step 7). With a versioned role piped in and no
    /// -Role, the target is its base name: RailsAppServer-1-7 → RailsAppServer takes its image.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "TtmRoleImage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpPages.Root + "Set-TtmRoleImage.md")]
    [OutputType(typeof(Role))]
    public sealed class SetTtmRoleImageCommand : TtmCmdlet
    {
        private int _received;
        private RoleAssignmentService? _service;

        /// <summary>One service for the whole pipeline: it reads the fleet once.</summary>
        private RoleAssignmentService Service => _service ??= new RoleAssignmentService(Fleet);

        /// <summary>A role from Get-TtmRole; its image goes to its base-name role.</summary>
        [Parameter(ValueFromPipeline = true)]
        public Role? InputObject { get; set; }

        /// <summary>The role to change; default: the piped role's base name.</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string? Role { get; set; }

        /// <summary>The image id (ami-…); default: the piped role's image.</summary>
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
        [Alias("ImageId")]
        [ValidateNotNullOrEmpty]
        public string? Image { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void Process()
        {
            if (InputObject == null && Image == null && Role == null) return;
            _received++;
            try
            {
                var target = Role ?? InputObject?.BaseName
                    ?? throw new TtmException(TtmErrorCode.InvalidArgument, "Name the role to change with -Role, or pipe in a versioned role from Get-TtmRole.");
                var image = Image ?? InputObject?.ImageId
                    ?? throw new TtmException(TtmErrorCode.InvalidArgument, $"Give the image for role {target} with -Image, or pipe in a role from Get-TtmRole.", target);
                var change = Service.PlanRoleImage(target, image);
                if (change.IsNoOp)
                {
                    WriteVerbose($"Role {change.Role.Name} already uses image {image}.");
                    if (PassThru) WriteObject(change.Role);
                    return;
                }
                if (!ShouldChange(change.Role.Name, change.Description, change.FarmsAffected, Force)) return;
                var changed = Service.Apply(change, Cancellation);
                if (PassThru) WriteObject(changed);
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
                    "No role or image came in, so no role was changed. Pipe roles in (Get-TtmRole -Latest | Set-TtmRoleImage) or give -Role and -Image."));
        }
    }
}

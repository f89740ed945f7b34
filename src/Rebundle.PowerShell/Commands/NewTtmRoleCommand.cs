using Rebundle.Backends;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Makes a role of a fleet Rebundle did not make (AWS): from an image, or as a copy of an
    /// existing launch template's default version, so the servers it launches are set up as the
    /// fleet's are. The first step of bringing a fleet in; New-TtmFarmRole is the second.
    /// </summary>
    [Cmdlet(VerbsCommon.New, "TtmRole", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = FromImage,
        HelpUri = HelpPages.Root + "New-TtmRole.md")]
    [OutputType(typeof(Role))]
    public sealed class NewTtmRoleCommand : TtmCmdlet
    {
        private const string FromTemplate = "LaunchTemplate";
        private const string FromImage = "Image";

        /// <summary>The role's name, e.g. RailsAppServer (its first snapshot is RailsAppServer-1-0).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; } = "";

        /// <summary>An existing launch template (name or lt- id) whose default version's settings the role takes.</summary>
        [Parameter(Mandatory = true, ParameterSetName = FromTemplate, ValueFromPipelineByPropertyName = true)]
        [Alias("LaunchTemplateName", "LaunchTemplateId")]
        [ValidateNotNullOrEmpty]
        public string LaunchTemplate { get; set; } = "";

        /// <summary>The image the role launches from (with -LaunchTemplate: instead of the template's).</summary>
        [Parameter(Mandatory = true, ParameterSetName = FromImage, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = FromTemplate)]
        [ValidateNotNullOrEmpty]
        public string? ImageId { get; set; }

        /// <summary>The instance type (default with -ImageId: t3.micro; with -LaunchTemplate: the template's).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? InstanceType { get; set; }

        protected override void Process()
        {
            try
            {
                var service = new FleetIntakeService(Fleet);
                var request = service.CheckRole(new RoleIntake
                {
                    Name = Name,
                    LaunchTemplate = ParameterSetName == FromTemplate ? LaunchTemplate : null,
                    ImageId = ImageId,
                    InstanceType = InstanceType,
                });
                if (!ShouldChange(request.Name, FleetIntakeService.Describe(request), Array.Empty<string>(), force: false)) return;
                WriteObject(service.NewRole(request, Cancellation));
            }
            catch (TtmException e)
            {
                WriteTtmError(e, Name);
            }
        }
    }
}

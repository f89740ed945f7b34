using System.Collections;
using Rebundle.Backends;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Brings servers Rebundle did not launch in as a farm role (AWS): an Auto Scaling group (its
    /// count is the group's desired capacity, and it launches from the role from now on), or
    /// running instances chosen by id or tag, with a count. What it would take in is read and
    /// shown first (-WhatIf, the prompt); after it the whole runbook works on the farm role.
    /// </summary>
    [Cmdlet(VerbsCommon.New, "TtmFarmRole", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByGroup,
        HelpUri = HelpPages.Root + "New-TtmFarmRole.md")]
    [OutputType(typeof(FarmRole))]
    public sealed class NewTtmFarmRoleCommand : TtmCmdlet
    {
        private const string ByGroup = "AutoScalingGroup";
        private const string ById = "InstanceId";
        private const string ByTag = "Tag";

        private readonly List<string> _instanceIds = new List<string>();

        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Farm { get; set; } = "";

        /// <summary>The farm role's alias: the name its servers are known by (RailsAppServer.1, …).</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string Alias { get; set; } = "";

        /// <summary>The role its servers launch from (make it first with New-TtmRole).</summary>
        [Parameter(Mandatory = true, Position = 2)]
        [ValidateNotNullOrEmpty]
        public string Role { get; set; } = "";

        [Parameter(Mandatory = true, ParameterSetName = ByGroup)]
        [Alias("AutoScalingGroupName")]
        [ValidateNotNullOrEmpty]
        public string AutoScalingGroup { get; set; } = "";

        /// <summary>Instances to take in; binds the InstanceId of piped objects (Get-EC2Instance).</summary>
        [Parameter(Mandatory = true, ParameterSetName = ById, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] InstanceId { get; set; } = Array.Empty<string>();

        /// <summary>Instances to take in by tag: every running one carrying all of these (@{ app = 'web' }).</summary>
        [Parameter(Mandatory = true, ParameterSetName = ByTag)]
        [ValidateNotNull]
        public Hashtable Tag { get; set; } = new Hashtable();

        /// <summary>How many servers the farm role keeps (default: as many as it takes in). Not for a group: its count is its desired capacity.</summary>
        [Parameter(ParameterSetName = ById)]
        [Parameter(ParameterSetName = ByTag)]
        [ValidateRange(1, 10000)]
        public int? Count { get; set; }

        /// <summary>The ELBv2 target groups the servers serve from (default: a group's own, none for instances).</summary>
        [Parameter]
        [ValidateNotNull]
        public string[]? TargetGroup { get; set; }

        /// <summary>Approves a protected farm (Production) in a script.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void Process() => _instanceIds.AddRange(InstanceId);

        protected override void End()
        {
            try
            {
                if (ParameterSetName == ById && _instanceIds.Count == 0)
                    throw new TtmException(TtmErrorCode.EmptyInput, "No instance id came down the pipeline, so no farm role was made. Check the command in front.");
                var service = new FleetIntakeService(Fleet);
                var preview = service.Preview(new FarmRoleIntake
                {
                    Farm = Farm,
                    Alias = Alias,
                    Role = Role,
                    AutoScalingGroup = ParameterSetName == ByGroup ? AutoScalingGroup : null,
                    InstanceIds = _instanceIds.Distinct(StringComparer.Ordinal).ToList(),
                    Tags = Tag.Keys.Cast<object>().ToDictionary(k => k.ToString() ?? "", k => Tag[k]?.ToString() ?? "", StringComparer.Ordinal),
                    Count = Count,
                    TargetGroups = TargetGroup,
                }, Cancellation);
                if (!ShouldChange($"{Farm}/{Alias}", FleetIntakeService.Describe(preview), new[] { Farm }, Force)) return;
                WriteObject(service.NewFarmRole(preview, Cancellation));
            }
            catch (TtmException e)
            {
                WriteTtmError(e, $"{Farm}/{Alias}");
            }
        }
    }
}

namespace Rebundle.PowerShell.Commands
{
    /// <summary>Lists farm roles: which role each farm runs under which alias, and how many servers it keeps.</summary>
    [Cmdlet(VerbsCommon.Get, "TtmFarmRole", HelpUri = HelpPages.Root + "Get-TtmFarmRole.md")]
    [OutputType(typeof(FarmRole))]
    public sealed class GetTtmFarmRoleCommand : TtmCmdlet
    {
        /// <summary>Binds the Farm of piped servers and farm roles, and the Name of piped farms (Get-TtmFarm | Get-TtmFarmRole).</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Farm { get; set; }

        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Alias { get; set; }

        protected override void Process() => WriteResult(Fleet.GetFarmRoles(Farm, Alias));
    }
}

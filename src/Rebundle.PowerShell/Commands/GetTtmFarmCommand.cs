namespace Rebundle.PowerShell.Commands
{
    /// <summary>Lists farms, optionally by name (wildcards allowed).</summary>
    [Cmdlet(VerbsCommon.Get, "TtmFarm", HelpUri = HelpPages.Root + "Get-TtmFarm.md")]
    [OutputType(typeof(Farm))]
    public sealed class GetTtmFarmCommand : TtmCmdlet
    {
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("Farm")]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Name { get; set; }

        protected override void Process() => WriteResult(Fleet.GetFarms(Name));
    }
}

namespace Rebundle.PowerShell.Commands
{
    /// <summary>The connection this session uses (what Connect-TtmFleet returned).</summary>
    [Cmdlet(VerbsCommon.Get, "TtmFleet", HelpUri = HelpPages.Root + "Get-TtmFleet.md")]
    [OutputType(typeof(FleetConnection))]
    public sealed class GetTtmFleetCommand : TtmCmdlet
    {
        protected override void End() => WriteObject(FleetSession.Current);
    }
}

namespace Rebundle.PowerShell.Commands
{
    /// <summary>Forgets this session's fleet connection.</summary>
    [Cmdlet(VerbsCommunications.Disconnect, "TtmFleet", HelpUri = HelpPages.Root + "Disconnect-TtmFleet.md")]
    public sealed class DisconnectTtmFleetCommand : TtmCmdlet
    {
        protected override bool NeedsConnection => false;

        protected override void End()
        {
            var removed = FleetSession.Clear();
            WriteVerbose(removed == null ? "This session was not connected." : $"Disconnected from the {removed.Backend} fleet at {removed.Location}.");
        }
    }
}

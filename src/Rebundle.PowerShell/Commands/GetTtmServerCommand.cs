namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Lists servers (not terminated ones unless -Status asks). -Role matches the farm role's
    /// alias — the role name a server serves as — so on the staging farm
    /// <c>-Role TTM-Base</c> is the base-image server, not every server running TTM-Base.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "TtmServer", HelpUri = HelpPages.Root + "Get-TtmServer.md")]
    [OutputType(typeof(Server))]
    public sealed class GetTtmServerCommand : TtmCmdlet
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Farm { get; set; }

        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
        [Alias("Alias")]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Role { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public ServerStatus[]? Status { get; set; }

        protected override void Process() => WriteResult(Fleet.GetServers(Farm, Role, Status));
    }
}

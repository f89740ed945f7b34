namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Lists roles. By default the production (unversioned) roles; -IncludeVersions adds the
    /// versioned ones; -Latest gives the highest versioned role of each base name.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "TtmRole", HelpUri = HelpPages.Root + "Get-TtmRole.md")]
    [OutputType(typeof(Role))]
    public sealed class GetTtmRoleCommand : TtmCmdlet
    {
        /// <summary>Base names (RailsAppServer) or versioned names (RailsAppServer-2-5); wildcards allowed.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Name { get; set; }

        [Parameter]
        public SwitchParameter Latest { get; set; }

        [Parameter]
        public SwitchParameter IncludeVersions { get; set; }

        private RoleCatalog? _catalog;

        protected override void Begin() => _catalog = Fleet.Roles();

        protected override void Process() => WriteResult(_catalog!.Select(Name, Latest, IncludeVersions));
    }
}

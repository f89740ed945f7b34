using Rebundle.Naming;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>The version the next snapshot of a role gets: 2-5 → 2-6 (3-0 with -Major); 1-0 when none exists.</summary>
    [Cmdlet(VerbsCommon.Get, "TtmNextRoleVersion", HelpUri = HelpPages.Root + "Get-TtmNextRoleVersion.md")]
    [OutputType(typeof(NextRoleVersion))]
    public sealed class GetTtmNextRoleVersionCommand : TtmCmdlet
    {
        /// <summary>A base or versioned role name; the base name counts.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("BaseName")]
        [ValidateNotNullOrEmpty]
        public string Role { get; set; } = "";

        [Parameter]
        public SwitchParameter Major { get; set; }

        private RoleCatalog? _catalog;

        protected override void Begin() => _catalog = Fleet.Roles();

        protected override void Process()
        {
            string baseName;
            try
            {
                baseName = _catalog!.BaseOfTyped(Role);
            }
            catch (TtmException e)
            {
                WriteTtmError(e, Role); // one malformed name among piped ones: the others still get answers
                return;
            }
            if (_catalog.Find(baseName) == null && _catalog.VersionsOf(baseName).Count == 0)
                WriteWarning($"There is no role named '{baseName}' yet, so its first version is 1-0." +
                             NameMatcher.SuggestionText(baseName, _catalog.All.Where(r => !r.IsVersioned).Select(r => r.Name).ToList()));
            WriteObject(NextRoleVersion.For(_catalog, baseName, Major));
        }
    }
}

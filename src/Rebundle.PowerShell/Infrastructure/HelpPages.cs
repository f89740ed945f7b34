namespace Rebundle.PowerShell.Infrastructure
{
    /// <summary>
    /// Where Get-Help -Online opens a cmdlet's page: its markdown in the repository's docs/help,
    /// the same file the MAML help is built from, so the page and Get-Help never disagree.
    /// </summary>
    internal static class HelpPages
    {
        public const string Root = "https://github.com/rebundle/rebundle/blob/main/docs/help/";
    }
}

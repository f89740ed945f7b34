using System.IO;
using System.Text;
using Rebundle.Audit;
using Rebundle.Naming;
using Rebundle.PowerShell.Infrastructure.Files;
using Rebundle.Rebundling;
using Rebundle.Reporting;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// The fleet in one look: which version every farm role runs, how old its image is, which
    /// servers drifted, what waits for promotion (-View FarmRoles), and every role version with
    /// where it runs and whether retiring it is safe (-View Roles); -Html writes it as one page.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "TtmFleetReport", HelpUri = HelpPages.Root + "Get-TtmFleetReport.md")]
    [OutputType(typeof(FarmRoleReport), typeof(RoleVersionReport), typeof(FileInfo))]
    public sealed class GetTtmFleetReportCommand : TtmCmdlet
    {
        /// <summary>How many of the audit log's last changes the page lists.</summary>
        private const int AuditEntriesOnPage = 12;

        /// <summary>FarmRoles (default): one object per farm role. Roles: one per role version.</summary>
        [Parameter(Position = 0)]
        [ValidateSet("FarmRoles", "Roles")]
        public string View { get; set; } = "FarmRoles";

        /// <summary>Only farm roles of these farms (wildcards allowed), in the FarmRoles view and the page's matrix.</summary>
        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Farm { get; set; }

        /// <summary>Write the report as one self-contained HTML page here, and return the file instead of the rows.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Html { get; set; }

        /// <summary>Rebundle journals whose undo makes a version unsafe to retire; default ~/.rebundle/journals.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? JournalPath { get; set; }

        /// <summary>Rebundles younger than this stay undoable (as Remove-TtmRoleVersion -KeepUndoFor).</summary>
        [Parameter]
        [TimeSpanArgument]
        public TimeSpan KeepUndoFor { get; set; } = UndoNeeds.DefaultKeep;

        protected override void End()
        {
            if (KeepUndoFor < TimeSpan.Zero)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"-KeepUndoFor must be zero or more; got {KeepUndoFor}.", KeepUndoFor);
            var full = new FleetReportBuilder(Fleet).Build(JournalUndoNeeds.Read(this, JournalPath, KeepUndoFor, Fleet));
            var report = full with { FarmRoles = full.FarmRoles.Where(r => NameMatcher.MatchesAny(r.Farm, Farm)).ToList() };
            foreach (var missing in (Farm ?? Array.Empty<string>()).Where(f => !NameMatcher.HasWildcard(f) && !full.FarmRoles.Any(r => string.Equals(r.Farm, f, StringComparison.OrdinalIgnoreCase))))
                WriteTtmError(new TtmException(TtmErrorCode.FarmNotFound,
                    $"No farm role is in a farm named '{missing}'." + NameMatcher.SuggestionText(missing, full.FarmRoles.Select(r => r.Farm).Distinct().ToList()) + " Run Get-TtmFarm to list farms.", missing));

            if (Html != null) WriteObject(WritePage(report));
            else if (View == "Roles") WriteObject(report.RoleVersions, enumerateCollection: true);
            else WriteObject(report.FarmRoles, enumerateCollection: true);
        }

        private FileInfo WritePage(FleetReport report)
        {
            var path = GetUnresolvedProviderPathFromPSPath(Html);
            try
            {
                File.WriteAllText(path, FleetReportPage.Render(report, LastChanges(report)), new UTF8Encoding(false));
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new TtmException(TtmErrorCode.InvalidArgument, $"The report page cannot be written to {path} ({e.Message}). Give -Html a path in a folder you can write.", path, e);
            }
            WriteVerbose($"Wrote the fleet report to {path}.");
            return new FileInfo(path);
        }

        /// <summary>The last changes made to this fleet, from the session's audit log; none when there is no log yet.</summary>
        private IReadOnlyList<AuditEntry> LastChanges(FleetReport report)
        {
            var path = FleetSession.Current?.AuditLogPath ?? FileAuditSink.DefaultPath();
            if (!File.Exists(path)) return Array.Empty<AuditEntry>();
            var lines = AuditCodec.Decode(AppendOnlyFile.ReadLines(path),
                line => WriteWarning($"Line {line} of the audit log {path} is not a whole entry (a write cut short); it was skipped."));
            var changes = AuditCodec.Changes(lines).Where(e => e.Backend == report.Backend && e.Location == report.Location).ToList();
            return changes.Skip(Math.Max(0, changes.Count - AuditEntriesOnPage)).ToList();
        }
    }
}

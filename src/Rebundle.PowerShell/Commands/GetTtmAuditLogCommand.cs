using System.IO;
using Rebundle.Audit;
using Rebundle.Naming;
using Rebundle.PowerShell.Infrastructure.Files;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>Reads the audit log: every change made through Rebundle, newest last, with filters.</summary>
    [Cmdlet(VerbsCommon.Get, "TtmAuditLog", HelpUri = HelpPages.Root + "Get-TtmAuditLog.md")]
    [OutputType(typeof(AuditEntry))]
    public sealed class GetTtmAuditLogCommand : TtmCmdlet
    {
        /// <summary>The log to read; default: the connected session's, else $env:REBUNDLE_AUDIT_LOG, else ~/.rebundle/audit.log.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Path { get; set; }

        /// <summary>
        /// Only changes whose target matches (wildcards), e.g. 'Production/*' or 'role/Rails*'. A change
        /// also matches as '&lt;farm&gt;/&lt;target&gt;' for every farm it touched, so 'Production/*'
        /// finds the role images that Production runs too, and a batch of servers matches by each server it names.
        /// </summary>
        [Parameter(Position = 0)]
        [SupportsWildcards]
        public string[]? Target { get; set; }

        /// <summary>Only these actions: CreateImage, CreateRole, SetRoleImage, SetFarmRoleRole, LaunchServer, TerminateServer, DeleteRole.</summary>
        [Parameter]
        [SupportsWildcards]
        public string[]? Action { get; set; }

        [Parameter]
        [SupportsWildcards]
        public string[]? User { get; set; }

        [Parameter]
        public DateTimeOffset? After { get; set; }

        [Parameter]
        public DateTimeOffset? Before { get; set; }

        /// <summary>Only the last N matching entries.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int? Last { get; set; }

        protected override bool NeedsConnection => false;

        protected override void End()
        {
            var path = Path != null ? GetUnresolvedProviderPathFromPSPath(Path) : FleetSession.Current?.AuditLogPath ?? FileAuditSink.DefaultPath();
            if (!File.Exists(path))
            {
                if (Path != null)
                    throw new TtmException(TtmErrorCode.InvalidArgument, $"There is no audit log at {path}.", path);
                WriteVerbose($"No audit log at {path} yet: nothing has been changed through Rebundle.");
                return;
            }
            var lines = AuditCodec.Decode(AppendOnlyFile.ReadLines(path),
                line => WriteWarning($"Line {line} of the audit log {path} is not a whole entry (a write cut short); it was skipped."));
            var entries = AuditCodec.Changes(lines)
                .Where(e => AuditTargets.Matches(e, Target) && NameMatcher.MatchesAny(e.Action, Action) && NameMatcher.MatchesAny(e.User, User))
                .Where(e => (After == null || e.Time >= After) && (Before == null || e.Time <= Before))
                .ToList();
            foreach (var entry in entries.Where(e => e.Outcome == AuditOutcome.Unknown))
                WriteWarning($"{entry.Action} on {entry.Target} at {entry.Time:u} was announced but its outcome was never written (the process stopped mid-change): check it in the fleet.");
            foreach (var entry in Last == null ? entries : entries.Skip(Math.Max(0, entries.Count - Last.Value))) WriteObject(entry);
        }
    }
}

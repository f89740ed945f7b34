using System.IO;
using Rebundle.Rebundling;

namespace Rebundle.PowerShell.Infrastructure.Files
{
    /// <summary>
    /// What the undo of every rebundle journal younger than a keep age needs, read from -JournalPath
    /// (default ~/.rebundle/journals): Remove-TtmRoleVersion keeps it, Get-TtmFleetReport calls it unsafe to retire.
    /// </summary>
    internal static class JournalUndoNeeds
    {
        /// <summary>A journal that cannot be read protects nothing, and the cmdlet says so.</summary>
        public static IReadOnlyList<UndoNeeds> Read(PSCmdlet cmdlet, string[]? journalPath, TimeSpan keep, Fleet fleet)
        {
            var needs = new List<UndoNeeds>();
            foreach (var file in JournalFiles(cmdlet, journalPath))
            {
                try
                {
                    var found = UndoNeeds.Of(file, FileJournal.Peek(file), fleet.Backend.Clock.UtcNow, keep, RebundlePlan.FleetOf(fleet.Backend));
                    if (found != null) needs.Add(found);
                }
                catch (Exception e) when (e is TtmException || e is IOException || e is UnauthorizedAccessException)
                {
                    cmdlet.WriteWarning($"Could not read the rebundle journal {file} ({e.Message}); what its undo needs is not protected.");
                }
            }
            return needs;
        }

        private static IEnumerable<string> JournalFiles(PSCmdlet cmdlet, string[]? journalPath)
        {
            var paths = journalPath?.Select(cmdlet.GetUnresolvedProviderPathFromPSPath)
                ?? new[] { Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".rebundle", "journals") };
            foreach (var path in paths)
            {
                if (Directory.Exists(path))
                    foreach (var file in Directory.GetFiles(path, "*.jsonl").OrderBy(f => f, StringComparer.Ordinal)) yield return file;
                else if (File.Exists(path)) yield return path;
                else if (journalPath != null)
                    cmdlet.WriteWarning($"There is no journal or folder at {path}; no rebundle there is protected.");
            }
        }
    }
}

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
        /// <summary>
        /// For a report (<paramref name="deleting"/> false) a journal that cannot be read protects
        /// nothing, and the cmdlet warns. Before a deletion it stops the command: a journal is
        /// given to keep what its undo needs, and one that cannot be read (or a path given that
        /// is not there) would quietly keep nothing (TtmJournalCorrupt, TtmInvalidArgument).
        /// </summary>
        public static IReadOnlyList<UndoNeeds> Read(PSCmdlet cmdlet, string[]? journalPath, TimeSpan keep, Fleet fleet, bool deleting = false)
        {
            var needs = new List<UndoNeeds>();
            foreach (var file in JournalFiles(cmdlet, journalPath, deleting))
            {
                try
                {
                    var found = UndoNeeds.Of(file, FileJournal.Peek(file), fleet.Backend.Clock.UtcNow, keep, RebundlePlan.FleetOf(fleet.Backend));
                    if (found != null) needs.Add(found);
                }
                catch (Exception e) when (e is TtmException || e is IOException || e is UnauthorizedAccessException)
                {
                    if (deleting)
                        throw new TtmException(TtmErrorCode.JournalCorrupt,
                            $"The rebundle journal {file} cannot be read ({e.Message}), so what its undo needs cannot be kept; nothing was retired. " +
                            "Repair or move the journal, or pass -Force to retire without keeping what undos need.", file, e);
                    cmdlet.WriteWarning($"Could not read the rebundle journal {file} ({e.Message}); what its undo needs is not protected.");
                }
            }
            return needs;
        }

        private static IEnumerable<string> JournalFiles(PSCmdlet cmdlet, string[]? journalPath, bool deleting)
        {
            var paths = journalPath?.Select(cmdlet.GetUnresolvedProviderPathFromPSPath)
                ?? new[] { Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".rebundle", "journals") };
            foreach (var path in paths)
            {
                if (Directory.Exists(path))
                    foreach (var file in Directory.GetFiles(path, "*.jsonl").OrderBy(f => f, StringComparer.Ordinal)) yield return file;
                else if (File.Exists(path)) yield return path;
                else if (journalPath != null && deleting)
                    throw new TtmException(TtmErrorCode.InvalidArgument,
                        $"There is no journal or folder at {path}, so no rebundle there could be kept undoable; nothing was retired. Give the journals' folder (default ~/.rebundle/journals), or pass -Force.", path);
                else if (journalPath != null)
                    cmdlet.WriteWarning($"There is no journal or folder at {path}; no rebundle there is protected.");
            }
        }
    }
}

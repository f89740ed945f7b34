using System.IO;
using Rebundle.Rebundling;

namespace Rebundle.PowerShell.Infrastructure.Files
{
    /// <summary>
    /// A new rebundle journal that creates its file (<see cref="FileJournal.Create"/>) only with
    /// its first entry: planning reads it, so -WhatIf leaves no file behind.
    /// </summary>
    internal sealed class DeferredJournal : IJournal
    {
        private FileJournal? _file;

        public DeferredJournal(string path) => Location = path;

        public string Location { get; }

        public IReadOnlyList<JournalEntry> Entries => (IReadOnlyList<JournalEntry>?)_file?.Entries ?? Array.Empty<JournalEntry>();

        public void Append(JournalEntry entry) => (_file ??= FileJournal.Create(Location)).Append(entry);

        /// <summary>The journal of a run: the one on disk when resuming (a torn tail set aside, <paramref name="warn"/> told), else a new one.</summary>
        public static IJournal OpenOrDefer(string path, bool resuming, Action<string> warn) =>
            resuming ? FileJournal.Open(path, warn) : new DeferredJournal(path);

        /// <summary>Where a new run's journal goes without -JournalPath: ~/.rebundle/journals/rebundle-&lt;UTC time&gt;.jsonl.</summary>
        public static string DefaultPath() => Path.Combine(
            Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".rebundle", "journals",
            $"rebundle-{DateTime.UtcNow:yyyyMMdd-HHmmss}.jsonl");
    }
}

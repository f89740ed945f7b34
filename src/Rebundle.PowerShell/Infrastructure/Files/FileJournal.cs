using System.Collections.Generic;
using System.IO;
using System.Linq;
using Rebundle.Errors;
using Rebundle.Rebundling;

namespace Rebundle.PowerShell.Infrastructure.Files
{
    /// <summary>A rebundle journal on disk: JSON lines, each appended and flushed before the change it announces.</summary>
    internal sealed class FileJournal : IJournal
    {
        private readonly List<JournalEntry> _entries;

        private FileJournal(string path, List<JournalEntry> entries)
        {
            Location = path;
            _entries = entries;
        }

        public string Location { get; }

        public IReadOnlyList<JournalEntry> Entries => _entries;

        public void Append(JournalEntry entry)
        {
            AppendOnlyFile.AppendLine(Location, JournalCodec.Encode(entry));
            _entries.Add(entry);
        }

        public static FileJournal Create(string path)
        {
            if (File.Exists(path) && new FileInfo(path).Length > 0)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"The journal {path} exists already. Use -Resume '{path}' to continue that rebundle, or give a new -JournalPath.", path);
            return new FileJournal(path, new List<JournalEntry>());
        }

        public static FileJournal Open(string path)
        {
            if (!File.Exists(path))
                throw new TtmException(TtmErrorCode.InvalidArgument, $"There is no journal at {path}. Give the path Invoke-TtmRebundle printed when it started.", path);
            var entries = JournalCodec.Decode(AppendOnlyFile.ReadLines(path)).ToList();
            if (!entries.Any(e => e.Step == RebundleRunner.PlanStep))
                throw new TtmException(TtmErrorCode.InvalidArgument, $"{path} is not a Rebundle journal (it has no plan).", path);
            return new FileJournal(path, entries);
        }
    }
}

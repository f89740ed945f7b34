using System.IO;
using System.Text;
using Rebundle.Rebundling;

namespace Rebundle.PowerShell.Infrastructure.Files
{
    /// <summary>
    /// A rebundle journal on disk: checksummed JSON lines (see <see cref="JournalCodec"/>), each
    /// appended and flushed before the change it announces. Opening one sets a torn last line
    /// aside into <c>&lt;journal&gt;.torn-&lt;n&gt;</c> and says so, so the next entry starts on a clean line.
    /// </summary>
    internal sealed class FileJournal : IJournal
    {
        /// <summary>
        /// The crash tests' cut point (tests/powershell/Rebundle.Tests.ps1): with this variable set to N,
        /// the process dies as kill -9 would right after entry N is on disk, so a test cuts a run at an
        /// exact entry instead of racing it. Unset, as everywhere else, it does nothing.
        /// </summary>
        internal const string CrashAfterEntryVariable = "REBUNDLE_TEST_CRASH_AFTER_ENTRY";

        private static readonly int? CrashAfterEntry =
            int.TryParse(Environment.GetEnvironmentVariable(CrashAfterEntryVariable), out var entry) ? entry : (int?)null;

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
            if (_entries.Count == CrashAfterEntry) System.Diagnostics.Process.GetCurrentProcess().Kill();
        }

        public static FileJournal Create(string path)
        {
            if (File.Exists(path) && new FileInfo(path).Length > 0)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"The journal {path} exists already. Use -Resume '{path}' to continue that rebundle, or give a new -JournalPath.", path);
            return new FileJournal(path, new List<JournalEntry>());
        }

        /// <summary>Opens a journal; <paramref name="warn"/> hears about a torn line set aside.</summary>
        public static FileJournal Open(string path, Action<string>? warn = null)
        {
            if (!File.Exists(path))
                throw new TtmException(TtmErrorCode.InvalidArgument, $"There is no journal at {path}. Give the path Invoke-TtmRebundle printed when it started.", path);
            var contents = ReadAndRepair(path, warn);
            if (!contents.Entries.Any(e => e.Step == RebundleRunner.PlanStep))
                throw new TtmException(TtmErrorCode.InvalidArgument, $"{path} is not a Rebundle journal (it has no plan).", path);
            return new FileJournal(path, contents.Entries.ToList());
        }

        /// <summary>Reads the entries only, changing nothing (retention reads other runs' journals).</summary>
        public static IReadOnlyList<JournalEntry> Peek(string path)
        {
            var (bytes, lines, ended) = LineFile.Read(path);
            return JournalCodec.Read(Texts(bytes, lines), ended, path).Entries;
        }

        private static JournalContents ReadAndRepair(string path, Action<string>? warn)
        {
            var (bytes, lines, ended) = LineFile.Read(path);
            var contents = JournalCodec.Read(Texts(bytes, lines), ended, path);
            // Everything after the last good line goes: the torn line (kept aside) and any partial blank tail.
            var keep = contents.GoodLines == 0 ? 0 : lines[contents.GoodLines - 1].Start + lines[contents.GoodLines - 1].Length + 1;
            if (keep >= bytes.Length) return contents;
            if (contents.TornLine is int torn)
            {
                var aside = FreeSidePath(path);
                try
                {
                    File.WriteAllBytes(aside, bytes.Skip(keep).ToArray());
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    throw new TtmException(TtmErrorCode.BackendError, $"Line {torn} of the journal {path} is torn and could not be set aside in {aside} ({e.Message}); the journal was left as it is. Make its folder writable and try again.", path, e);
                }
                warn?.Invoke($"Line {torn} of the journal {path} was cut short by a crash mid-write; it was set aside in {aside}. " +
                    $"The {contents.Entries.Count} entries before it are used: the step it announced did not finish and runs again.");
            }
            LineFile.Truncate(path, keep);
            return contents;
        }

        private static IReadOnlyList<string> Texts(byte[] bytes, IReadOnlyList<(int Start, int Length)> lines) =>
            lines.Select(l => Encoding.UTF8.GetString(bytes, l.Start, l.Length)).ToList();

        private static string FreeSidePath(string path)
        {
            for (var n = 1; ; n++)
            {
                var candidate = $"{path}.torn-{n}";
                if (!File.Exists(candidate)) return candidate;
            }
        }
    }
}

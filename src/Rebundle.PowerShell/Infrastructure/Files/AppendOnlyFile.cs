using System.IO;
using System.Text;

namespace Rebundle.PowerShell.Infrastructure.Files
{
    /// <summary>
    /// Appends whole lines to a file that several sessions may append to at once: each line is
    /// written in the writer's turn (retried briefly), on a fresh line, and flushed to disk before returning.
    /// </summary>
    internal static class AppendOnlyFile
    {
        public static void AppendLine(string path, string line)
        {
            var bytes = new UTF8Encoding(false).GetBytes(line + "\n");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (true)
            {
                try
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                    // Writers take turns on a lock file beside the log (an exclusive flock on Unix), so two
                    // sessions appending at once never interleave, while readers of the log itself
                    // (Get-TtmAuditLog, Get-Content, tail -f) are never shut out by a writer.
                    using var turn = new FileStream(path + ".writer", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                    using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
                    stream.Seek(0, SeekOrigin.End);
                    // A line torn by a crash mid-write must not swallow this one: start on a fresh line.
                    if (EndsInsideALine(stream)) stream.WriteByte((byte)'\n');
                    stream.Write(bytes, 0, bytes.Length);
                    stream.Flush(flushToDisk: true);
                    return;
                }
                catch (IOException e) when (DateTime.UtcNow < deadline && IsSharingViolation(e))
                {
                    Thread.Sleep(20);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is NotSupportedException || e is ArgumentException)
                {
                    throw new TtmException(TtmErrorCode.BackendError, $"Could not write to {path}: {e.Message}", path, e);
                }
            }
        }

        private static bool EndsInsideALine(FileStream stream)
        {
            if (stream.Length == 0) return false;
            stream.Seek(-1, SeekOrigin.End);
            var last = stream.ReadByte();
            stream.Seek(0, SeekOrigin.End);
            return last != '\n';
        }

        // Another writer holds the file for a moment (retry); anything else (no such folder, a file
        // where a folder should be, no permission) will not go away by waiting.
        private static bool IsSharingViolation(IOException e) =>
            !(e is DirectoryNotFoundException) && !(e is FileNotFoundException) && !(e is PathTooLongException) &&
            e.Message.IndexOf("being used by another process", StringComparison.OrdinalIgnoreCase) >= 0;

        public static string[] ReadLines(string path)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd().Split('\n');
        }
    }
}

using System;
using System.IO;
using System.Text;
using System.Threading;
using Rebundle.Errors;

namespace Rebundle.PowerShell.Infrastructure.Files
{
    /// <summary>
    /// Appends whole lines to a file that several sessions may append to at once: each line is
    /// written under an exclusive open (retried briefly) and flushed to disk before returning.
    /// </summary>
    internal static class AppendOnlyFile
    {
        public static void AppendLine(string path, string line)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var bytes = new UTF8Encoding(false).GetBytes(line + "\n");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (true)
            {
                try
                {
                    using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
                    stream.Write(bytes, 0, bytes.Length);
                    stream.Flush(flushToDisk: true);
                    return;
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(20);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    throw new TtmException(TtmErrorCode.BackendError, $"Could not write to {path}: {e.Message}", path, e);
                }
            }
        }

        public static string[] ReadLines(string path)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd().Split('\n');
        }
    }
}

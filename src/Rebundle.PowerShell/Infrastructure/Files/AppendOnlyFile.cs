using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using Rebundle.Errors;

namespace Rebundle.PowerShell.Infrastructure.Files
{
    /// <summary>
    /// Appends whole lines to a file that several sessions may append to at once: each line is
    /// written under an exclusive open (retried briefly) and flushed to disk before returning.
    /// A line always starts on a line of its own: if the file ends in a partial line (a crash
    /// mid-write), a newline goes first, so the new line is never glued onto the torn one.
    /// </summary>
    internal static class AppendOnlyFile
    {
        private const byte NewLine = (byte)'\n';

        public static void AppendLine(string path, string line)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var bytes = new UTF8Encoding(false).GetBytes(line + "\n");
            Retry(path, () =>
            {
                using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
                if (stream.Length > 0)
                {
                    stream.Seek(-1, SeekOrigin.End);
                    if (stream.ReadByte() != NewLine) stream.WriteByte(NewLine);
                }
                stream.Seek(0, SeekOrigin.End);
                stream.Write(bytes, 0, bytes.Length);
                stream.Flush(flushToDisk: true);
            });
        }

        public static string[] ReadLines(string path)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd().Split('\n');
        }

        /// <summary>The file's lines as byte ranges (start, length without the newline), and whether it ends with a newline.</summary>
        public static (byte[] Bytes, IReadOnlyList<(int Start, int Length)> Lines, bool Ended) ReadLineRanges(string path)
        {
            byte[] bytes;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            {
                bytes = new byte[stream.Length];
                var read = 0;
                while (read < bytes.Length) read += stream.Read(bytes, read, bytes.Length - read);
            }
            var lines = new List<(int, int)>();
            var start = 0;
            for (var i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] != NewLine) continue;
                lines.Add((start, i - start));
                start = i + 1;
            }
            var ended = start == bytes.Length;
            if (!ended) lines.Add((start, bytes.Length - start));
            return (bytes, lines, ended);
        }

        /// <summary>Cuts the file at <paramref name="length"/> bytes, durably.</summary>
        public static void Truncate(string path, long length) => Retry(path, () =>
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read);
            stream.SetLength(length);
            stream.Flush(flushToDisk: true);
        });

        private static void Retry(string path, Action write)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (true)
            {
                try
                {
                    write();
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
    }
}

using System.IO;

namespace Rebundle.PowerShell.Infrastructure.Files
{
    /// <summary>
    /// A line file as bytes: where each line starts and ends, and cutting the file back to a
    /// line's end. The journal uses it to set a torn last line aside without re-encoding the
    /// good lines before it.
    /// </summary>
    internal static class LineFile
    {
        private const byte NewLine = (byte)'\n';

        /// <summary>The file's bytes, its lines as (start, length without the newline), and whether it ends with a newline.</summary>
        public static (byte[] Bytes, IReadOnlyList<(int Start, int Length)> Lines, bool Ended) Read(string path)
        {
            byte[] bytes;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            {
                bytes = new byte[stream.Length];
                var read = 0;
                while (read < bytes.Length)
                {
                    var n = stream.Read(bytes, read, bytes.Length - read);
                    if (n == 0) break;
                    read += n;
                }
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

        /// <summary>Cuts the file at <paramref name="length"/> bytes and makes that durable.</summary>
        public static void Truncate(string path, long length)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (true)
            {
                try
                {
                    using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read);
                    stream.SetLength(length);
                    stream.Flush(flushToDisk: true);
                    return;
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(20); // an appender holds it for a moment
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    throw new TtmException(TtmErrorCode.BackendError, $"Could not cut the torn line off {path}: {e.Message}", path, e);
                }
            }
        }
    }
}

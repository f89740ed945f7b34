using System.Diagnostics;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Rebundle.Errors;

namespace Rebundle.Sandbox
{
    /// <summary>
    /// The Sandbox's JSON file. Every read or change holds an exclusive lock on a sibling
    /// ".lock" file, so two PowerShell processes using one Sandbox take turns; a change is
    /// written to a temporary file and swapped in whole, so a crash never leaves half a file.
    /// </summary>
    internal sealed class SandboxStore
    {
        private static readonly JsonSerializerOptions Json = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            WriteIndented = true,
            Converters = { new JsonStringEnumConverter() },
        };

        private readonly TimeSpan _lockTimeout;

        public SandboxStore(string path, TimeSpan? lockTimeout = null)
        {
            Path = path;
            _lockTimeout = lockTimeout ?? TimeSpan.FromSeconds(30);
        }

        public string Path { get; }

        public bool Exists => File.Exists(Path);

        /// <summary>How many times this store rewrote the file: tests hold a batch to one write.</summary>
        internal int Writes { get; private set; }

        /// <summary>
        /// Runs <paramref name="work"/> on the state under the lock. When it returns true the
        /// state is written back; when it returns false (a read, or nothing changed) the file is
        /// left byte-for-byte as it was.
        /// </summary>
        public T Use<T>(Func<SandboxState, (T result, bool changed)> work, Func<SandboxState>? seed = null)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
            using (AcquireLock())
            {
                SandboxState state;
                var changed = false;
                if (File.Exists(Path))
                {
                    state = Read();
                }
                else
                {
                    state = seed?.Invoke() ?? throw new TtmException(TtmErrorCode.StateFileCorrupt, $"The Sandbox file {Path} does not exist.", Path);
                    changed = true;
                }

                var (result, workChanged) = work(state);
                if (changed || workChanged) Write(state);
                return result;
            }
        }

        private SandboxState Read()
        {
            try
            {
                var text = File.ReadAllText(Path, Encoding.UTF8);
                var state = JsonSerializer.Deserialize<SandboxState>(text, Json);
                if (state == null) throw new JsonException("the file is empty");
                SandboxStateCheck.Check(state, Path);
                return state;
            }
            catch (JsonException e)
            {
                // The serializer names its .NET type when the JSON has the wrong shape; say where instead.
                var why = e.Message.Contains("could not be converted")
                    ? $"its JSON at {e.Path ?? "$"} (line {(e.LineNumber ?? 0) + 1}) is not what a Sandbox file holds"
                    : e.Message;
                throw new TtmException(TtmErrorCode.StateFileCorrupt,
                    $"The Sandbox file {Path} cannot be read ({why}). Move it aside to start a fresh Sandbox, or restore it from a copy.", Path, e);
            }
        }

        private void Write(SandboxState state)
        {
            var temp = Path + ".tmp-" + Process.GetCurrentProcess().Id + "-" + Thread.CurrentThread.ManagedThreadId;
            File.WriteAllText(temp, JsonSerializer.Serialize(state, Json), new UTF8Encoding(false));
            if (File.Exists(Path)) File.Replace(temp, Path, null);
            else File.Move(temp, Path);
            Writes++;
        }

        private FileStream AcquireLock()
        {
            var lockPath = Path + ".lock";
            var deadline = DateTime.UtcNow + _lockTimeout;
            var delay = 10;
            while (true)
            {
                try
                {
                    return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(delay);
                    delay = Math.Min(delay * 2, 100);
                }
                catch (IOException e)
                {
                    throw new TtmException(TtmErrorCode.StateFileLocked,
                        $"The Sandbox file {Path} stayed locked by another process for {_lockTimeout.TotalSeconds:0}s. Finish or stop the other Rebundle session, then try again.", Path, e);
                }
            }
        }
    }
}

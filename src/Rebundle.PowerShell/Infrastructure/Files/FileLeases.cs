using System.Diagnostics;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Rebundle.Safety;

namespace Rebundle.PowerShell.Infrastructure.Files
{
    /// <summary>
    /// Leases as operating-system locks on files (flock on Linux and macOS, a sharing lock on
    /// Windows): one lock file per farm in a folder every session of this fleet on this machine
    /// uses, and one beside each journal. The system releases a lock when its process dies
    /// (kill -9 included), so a lease never outlives its holder and never needs breaking. Who
    /// holds it is written next to it for the refusal's message. They are local: sessions on
    /// other machines do not see them (docs/safety.md).
    /// </summary>
    internal sealed class FileLeases : IFarmLeases
    {
        private readonly string _folder;
        private readonly string _user;
        private readonly Dictionary<string, Held> _held = new Dictionary<string, Held>(StringComparer.Ordinal);

        public FileLeases(string folder, string user)
        {
            _folder = folder;
            _user = user;
        }

        /// <summary>The leases folder of a fleet: inside the Sandbox's folder, else one per backend and location under ~/.rebundle/leases.</summary>
        public static string FolderFor(string backendKind, string location, string? sandboxFolder)
        {
            if (sandboxFolder != null) return Path.Combine(sandboxFolder, "leases");
            using var sha = SHA256.Create();
            var hash = BitConverter.ToString(sha.ComputeHash(Encoding.UTF8.GetBytes(location))).Replace("-", "").Substring(0, 12).ToLowerInvariant();
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".rebundle", "leases", backendKind.ToLowerInvariant() + "-" + hash);
        }

        public string Scope => $"lock files in {_folder} (sessions on this machine)";

        public IDisposable AcquireFarms(IReadOnlyCollection<string> farms, string purpose, bool breakExpired)
        {
            var taken = new List<string>();
            try
            {
                // One order for everyone, so two runs wanting the same farms cannot each hold half.
                foreach (var farm in farms.Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(f => f, StringComparer.OrdinalIgnoreCase))
                {
                    var path = Path.Combine(_folder, SafeName(farm) + ".lease");
                    Take(path, purpose, $"farm {farm}");
                    taken.Add(path);
                }
            }
            catch
            {
                foreach (var path in taken) Release(path);
                throw;
            }
            return new DisposableAction(() => taken.ForEach(Release));
        }

        public IDisposable AcquireJournal(string journalPath, string purpose)
        {
            var path = Path.GetFullPath(journalPath) + ".lock";
            Take(path, purpose, $"journal {journalPath}");
            return new DisposableAction(() => Release(path));
        }

        private void Take(string lockPath, string purpose, string what)
        {
            lock (_held)
            {
                if (_held.TryGetValue(lockPath, out var mine))
                {
                    mine.Count++;
                    return;
                }
                FileStream stream;
                try
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
                    stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                }
                catch (IOException e) when (!(e is DirectoryNotFoundException))
                {
                    var holder = AwaitHolder(lockPath);
                    throw new TtmException(TtmErrorCode.FarmBusy,
                        $"{Capitalized(what)} is in use by another run: {holder?.ToString() ?? "another process (it has not said who yet)"}. " +
                        "Wait for it to finish, or stop it; its lease ends with its process.", what);
                }
                catch (UnauthorizedAccessException e)
                {
                    throw new TtmException(TtmErrorCode.FarmBusy, $"Cannot take the lease on {what}: {e.Message}", what, e);
                }
                var me = new LeaseHolder
                {
                    User = _user,
                    Host = Environment.MachineName,
                    ProcessId = Process.GetCurrentProcess().Id,
                    Since = DateTimeOffset.UtcNow,
                    Purpose = purpose,
                };
                File.WriteAllText(HolderPath(lockPath), JsonSerializer.Serialize(me));
                _held[lockPath] = new Held(stream);
            }
        }

        private void Release(string lockPath)
        {
            lock (_held)
            {
                if (!_held.TryGetValue(lockPath, out var mine) || --mine.Count > 0) return;
                _held.Remove(lockPath);
                // The holder note goes first, while the lock still keeps others out. The lock file
                // itself stays: deleting it would let two runs lock two different files of one name.
                try { File.Delete(HolderPath(lockPath)); } catch (IOException) { }
                mine.Stream.Dispose();
            }
        }

        // The holder writes its note just after it takes the lock: a run refused in between waits a
        // moment for it, so the refusal names who holds the farm (it gives up after half a second).
        private static LeaseHolder? AwaitHolder(string lockPath)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMilliseconds(500);
            while (true)
            {
                var holder = ReadHolder(lockPath);
                if (holder != null || DateTime.UtcNow >= deadline) return holder;
                Thread.Sleep(25);
            }
        }

        private static LeaseHolder? ReadHolder(string lockPath)
        {
            try
            {
                return JsonSerializer.Deserialize<LeaseHolder>(File.ReadAllText(HolderPath(lockPath)));
            }
            catch (Exception e) when (e is IOException || e is JsonException || e is UnauthorizedAccessException)
            {
                return null;
            }
        }

        private static string HolderPath(string lockPath) => lockPath + ".holder";

        private static string SafeName(string farm) =>
            new string(farm.Select(c => char.IsLetterOrDigit(c) || c == '-' || c == '_' || c == '.' ? c : '_').ToArray()).ToLowerInvariant();

        private static string Capitalized(string text) => char.ToUpperInvariant(text[0]) + text.Substring(1);

        private sealed class Held
        {
            public Held(FileStream stream) => Stream = stream;

            public FileStream Stream { get; }

            public int Count { get; set; } = 1;
        }
    }
}

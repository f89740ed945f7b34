using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Rebundle.Remote;

namespace Rebundle.Ssh.Tests.Fixture;

/// <summary>
/// A real OpenSSH server (/usr/sbin/sshd from Debian's openssh-server) on a free loopback
/// port, running as the current user with a generated host key and user keys, its own
/// authorized_keys, and a PATH for sessions that puts fake apt-get, dpkg-query, systemctl,
/// uptime and reboot first, so OS updates and checks run end to end without touching the
/// machine's packages. The fakes keep their state in <see cref="StateDir"/>. The fake reboot
/// really takes sshd away (connections drop, the port refuses) and starts it again later;
/// <see cref="ResetState"/> makes sure it answers for the next test.
/// </summary>
public sealed class SshdFixture : IDisposable
{
    public const string Passphrase = "correct horse";
    private readonly string _log;
    private readonly string _config;
    private Process? _sshd;

    public SshdFixture()
    {
        if (!File.Exists("/usr/sbin/sshd"))
            throw new InvalidOperationException("These tests need OpenSSH's server: apt-get install -y openssh-server (.ci/run does it).");
        Root = Directory.CreateTempSubdirectory("rebundle-sshd-").FullName;
        StateDir = Path.Combine(Root, "state");
        Directory.CreateDirectory(StateDir);
        var bin = Path.Combine(Root, "bin");
        Directory.CreateDirectory(bin);
        foreach (var fake in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fakes")))
        {
            var copy = Path.Combine(bin, Path.GetFileName(fake));
            File.Copy(fake, copy);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(copy, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        HostKeyFile = KeyGen("host_ed25519", "ed25519", "");
        KeyFile = KeyGen("user_ed25519", "ed25519", "");
        PemKeyFile = KeyGen("user_rsa.pem", "rsa", "", "-m", "PEM", "-b", "2048");
        EncryptedKeyFile = KeyGen("user_encrypted", "ed25519", Passphrase);
        File.WriteAllText(Path.Combine(Root, "authorized_keys"), string.Concat(
            new[] { KeyFile, PemKeyFile, EncryptedKeyFile }.Select(k => File.ReadAllText(k + ".pub"))));

        User = Environment.UserName;
        Port = FreePort();
        _config = Path.Combine(Root, "sshd_config");
        File.WriteAllText(_config, $"""
            Port {Port}
            ListenAddress 127.0.0.1
            HostKey {HostKeyFile}
            PidFile {Path.Combine(Root, "sshd.pid")}
            AuthorizedKeysFile {Path.Combine(Root, "authorized_keys")}
            # The temp folder is not owned the way sshd wants for a real user's files.
            StrictModes no
            UsePAM no
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            PermitRootLogin prohibit-password
            # Parallel tests open many connections at once; the default drops some.
            MaxStartups 100
            MaxSessions 100
            SetEnv PATH={bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin FAKE_STATE={StateDir} FAKE_SSHD_ROOT={Root}
            LogLevel VERBOSE
            """);
        if (Environment.UserName == "root")
            Directory.CreateDirectory("/run/sshd"); // sshd started by root insists on its privilege-separation dir

        _log = Path.Combine(Root, "sshd.log");
        StartSshd();

        HostKeyFingerprint = Fingerprint(HostKeyFile + ".pub");
        KnownHostsFile = Path.Combine(Root, "known_hosts");
        File.WriteAllText(KnownHostsFile, KnownHostsLine + "\n");
        ResetState();
    }

    public string Root { get; }

    public string StateDir { get; }

    public string ChefCache => Path.Combine(StateDir, "chef");

    public int Port { get; }

    public string User { get; }

    public string HostKeyFile { get; }

    public string HostKeyFingerprint { get; }

    /// <summary>The known_hosts line for this server's key, as ssh would write it.</summary>
    public string KnownHostsLine => $"[127.0.0.1]:{Port} " + string.Join(" ", File.ReadAllText(HostKeyFile + ".pub").Split(' ').Take(2));

    public string KnownHostsFile { get; }

    public string KeyFile { get; }

    public string PemKeyFile { get; }

    public string EncryptedKeyFile { get; }

    /// <summary>What sshd logged so far, for failure messages.</summary>
    public string Log => File.Exists(_log) ? File.ReadAllText(_log) : "";

    /// <summary>Settings for one "server": every server is this sshd, reached over its own connection.</summary>
    public SshConnectionSettings Server(string name = "TTM-Base.1") => new()
    {
        ServerName = name,
        Farm = "Rebundle-Staging",
        Address = "127.0.0.1",
        Port = Port,
        User = User,
        KeyFile = KeyFile,
        KnownHostsFile = KnownHostsFile,
        ConnectTimeout = TimeSpan.FromSeconds(15),
    };

    /// <summary>Puts the fakes back to a healthy server: answering, old boot time, nothing installed, Chef done.</summary>
    public void ResetState()
    {
        // A reboot of an earlier test may still be pending (its restart would change the boot
        // time under this test) or may never come back: cancel it, and start sshd if it is down.
        var restart = Running(Path.Combine(Root, "restart.pid"));
        if (restart != null && restart.ProcessName != "sshd") Stop(restart);
        File.Delete(Path.Combine(Root, "restart.pid"));
        if (!Answers()) StartSshd();

        foreach (var entry in Directory.GetFileSystemEntries(StateDir))
        {
            if (Directory.Exists(entry)) Directory.Delete(entry, true);
            else File.Delete(entry);
        }

        File.WriteAllText(Path.Combine(StateDir, "boot-time"), "2026-01-01 00:00:00\n");
        Directory.CreateDirectory(Path.Combine(ChefCache, "cookbooks"));
    }

    public string State(string name) => Path.Combine(StateDir, name);

    public static string Fingerprint(string publicKeyFile)
    {
        var output = Run("ssh-keygen", "-l", "-E", "sha256", "-f", publicKeyFile);
        return output.Split(' ')[1];
    }

    public void Dispose()
    {
        try
        {
            // The sshd started here, or the one a fake reboot started, and a restart still pending.
            foreach (var pidFile in new[] { "restart.pid", "sshd.pid" })
                if (Running(Path.Combine(Root, pidFile)) is { } process) Stop(process);
            if (_sshd is { HasExited: false }) Stop(_sshd);
        }
        finally
        {
            _sshd?.Dispose();
            try { Directory.Delete(Root, true); } catch (IOException) { }
        }
    }

    private void StartSshd()
    {
        _sshd?.Dispose();
        var start = new ProcessStartInfo("/usr/sbin/sshd")
        {
            ArgumentList = { "-D", "-e", "-f", _config },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        _sshd = Process.Start(start)!;
        var log = new StreamWriter(_log, append: true) { AutoFlush = true };
        _sshd.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        _sshd.BeginErrorReadLine();
        WaitUntilListening();
    }

    /// <summary>The live process whose pid <paramref name="pidFile"/> holds, if any.</summary>
    private static Process? Running(string pidFile)
    {
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid)) return null;
        try
        {
            var process = Process.GetProcessById(pid);
            return process.HasExited ? null : process;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static void Stop(Process process)
    {
        try
        {
            process.Kill();
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }
    }

    private string KeyGen(string name, string type, string passphrase, params string[] extra)
    {
        var path = Path.Combine(Root, name);
        Run("ssh-keygen", new[] { "-q", "-t", type, "-N", passphrase, "-C", name, "-f", path }.Concat(extra).ToArray());
        return path;
    }

    internal static string Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(30000)) { process.Kill(); throw new TimeoutException($"{file} did not finish"); }
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(" ", args)} failed: {error.Result}");
        return output.Result;
    }

    /// <summary>Whether sshd answers on the port with its banner now.</summary>
    public bool Answers()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            using var stream = client.GetStream();
            stream.ReadTimeout = 2000;
            var banner = new byte[64];
            return stream.Read(banner) > 0;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void WaitUntilListening()
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (_sshd!.HasExited)
                throw new InvalidOperationException($"sshd exited with {_sshd.ExitCode}: {Log}");
            if (Answers()) return;
            Thread.Sleep(100);
        }

        throw new TimeoutException($"sshd did not listen on port {Port} within 15s: {Log}");
    }
}

[CollectionDefinition(Name)]
public sealed class SshdCollection : ICollectionFixture<SshdFixture>
{
    public const string Name = "sshd";
}

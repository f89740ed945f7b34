using System.Diagnostics;
using System.Security;
using Rebundle.Errors;
using Rebundle.Remote;
using Rebundle.Ssh.Tests.Fixture;

namespace Rebundle.Ssh.Tests.Sshd;

/// <summary>Commands over a real OpenSSH connection: output, exit codes, timeouts, drops, keys.</summary>
[Collection(SshdCollection.Name)]
public sealed class SshShellTests
{
    private readonly SshdFixture _sshd;
    private readonly SshNetShellFactory _factory = new();

    public SshShellTests(SshdFixture sshd) => _sshd = sshd;

    [Fact]
    public void A_command_returns_its_output_error_text_and_exit_code()
    {
        using var shell = _factory.Connect(_sshd.Server("RailsAppServer.1"), CancellationToken.None);

        var result = shell.Run("echo to-stdout; echo to-stderr >&2; exit 3", TimeSpan.FromSeconds(20), CancellationToken.None);

        Assert.Equal(3, result.ExitCode);
        Assert.False(result.Succeeded);
        Assert.Equal("to-stdout\n", result.StdOut);
        Assert.Equal("to-stderr\n", result.StdErr);
        Assert.Equal("RailsAppServer.1", result.Server);
        Assert.Equal("Rebundle-Staging", result.Farm);
        Assert.True(result.Duration > TimeSpan.Zero);
    }

    [Fact]
    public void One_connection_runs_several_commands_and_sees_the_fake_path()
    {
        using var shell = _factory.Connect(_sshd.Server(), CancellationToken.None);

        var first = shell.Run("command -v apt-get", TimeSpan.FromSeconds(20), CancellationToken.None);
        var second = shell.Run("id -un", TimeSpan.FromSeconds(20), CancellationToken.None);

        Assert.Equal(Path.Combine(_sshd.Root, "bin", "apt-get"), first.StdOut.Trim());
        Assert.Equal(_sshd.User, second.StdOut.Trim());
        Assert.Equal($"{_sshd.User}@127.0.0.1:{_sshd.Port}", shell.Host);
    }

    [Fact]
    public void A_command_that_runs_too_long_is_stopped_with_a_timeout_error()
    {
        using var shell = _factory.Connect(_sshd.Server(), CancellationToken.None);
        var watch = Stopwatch.StartNew();

        var error = Assert.Throws<TtmException>(() => shell.Run("sleep 30", TimeSpan.FromSeconds(1), CancellationToken.None));

        Assert.Equal(TtmErrorCode.SshTimeout, error.Code);
        Assert.Contains("sleep 30", error.Message);
        Assert.Contains("-Timeout", error.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Cancelling_stops_a_running_command()
    {
        using var shell = _factory.Connect(_sshd.Server(), CancellationToken.None);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var watch = Stopwatch.StartNew();

        Assert.ThrowsAny<OperationCanceledException>(() => shell.Run("sleep 30", TimeSpan.FromMinutes(1), cancel.Token));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
    }

    [Fact]
    public void A_dropped_connection_is_reported_as_a_connection_failure()
    {
        using var shell = _factory.Connect(_sshd.Server("Sidekiq.1"), CancellationToken.None);

        var error = Assert.Throws<TtmException>(() => shell.Run("drop-connection", TimeSpan.FromSeconds(20), CancellationToken.None));

        Assert.Equal(TtmErrorCode.SshConnectionFailed, error.Code);
        Assert.Contains("dropped", error.Message);
        Assert.Equal("Sidekiq.1", error.Target);
    }

    [Fact]
    public void A_pem_rsa_key_authenticates()
    {
        using var shell = _factory.Connect(_sshd.Server() with { KeyFile = _sshd.PemKeyFile }, CancellationToken.None);

        Assert.Equal("ok\n", shell.Run("echo ok", TimeSpan.FromSeconds(20), CancellationToken.None).StdOut);
    }

    [Fact]
    public void A_passphrase_protected_key_works_with_its_passphrase_and_is_refused_without()
    {
        var passphrase = new SecureString();
        foreach (var c in SshdFixture.Passphrase) passphrase.AppendChar(c);
        var settings = _sshd.Server() with { KeyFile = _sshd.EncryptedKeyFile, Passphrase = passphrase };
        Assert.True(PrivateKeyText.NeedsPassphrase(File.ReadAllText(_sshd.EncryptedKeyFile)));
        Assert.False(PrivateKeyText.NeedsPassphrase(File.ReadAllText(_sshd.KeyFile)));

        using (var shell = _factory.Connect(settings, CancellationToken.None))
            Assert.Equal("ok\n", shell.Run("echo ok", TimeSpan.FromSeconds(20), CancellationToken.None).StdOut);

        var error = Assert.Throws<TtmException>(() => _factory.Connect(settings with { Passphrase = null }, CancellationToken.None));
        Assert.Equal(TtmErrorCode.SshKeyNotFound, error.Code);
        Assert.Contains("passphrase", error.Message);
        Assert.DoesNotContain(SshdFixture.Passphrase, settings.ToString());
    }

    [Fact]
    public void A_missing_key_file_is_named_in_the_error()
    {
        var missing = Path.Combine(_sshd.Root, "no-such-key.pem");

        var error = Assert.Throws<TtmException>(() => _factory.Connect(_sshd.Server() with { KeyFile = missing }, CancellationToken.None));

        Assert.Equal(TtmErrorCode.SshKeyNotFound, error.Code);
        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public void The_farm_key_convention_finds_the_key_under_the_home_ssh_folder_and_lists_paths_when_missing()
    {
        var home = Directory.CreateTempSubdirectory("rebundle-home-").FullName;
        try
        {
            var resolver = new KeyFileResolver(home, File.Exists);
            var error = Assert.Throws<TtmException>(() => resolver.Resolve(null, "Rebundle-Staging", "us-east-1", "TTM-Base.1"));
            var expected = Path.Combine(home, ".ssh", "FARM-Rebundle-Staging.us-east-1.private.pem");
            Assert.Equal(TtmErrorCode.SshKeyNotFound, error.Code);
            Assert.Contains(expected, error.Message);

            Directory.CreateDirectory(Path.Combine(home, ".ssh"));
            File.Copy(_sshd.KeyFile, expected);
            var keyFile = resolver.Resolve(null, "Rebundle-Staging", "us-east-1", "TTM-Base.1");
            using var shell = _factory.Connect(_sshd.Server() with { KeyFile = keyFile }, CancellationToken.None);
            Assert.Equal(0, shell.Run("true", TimeSpan.FromSeconds(20), CancellationToken.None).ExitCode);
        }
        finally
        {
            Directory.Delete(home, true);
        }
    }

    [Fact]
    public void A_port_nobody_listens_on_is_a_connection_failure_naming_the_address()
    {
        var closedPort = SshdFixtureFreePort();

        var error = Assert.Throws<TtmException>(() => _factory.Connect(_sshd.Server() with { Port = closedPort }, CancellationToken.None));

        Assert.Equal(TtmErrorCode.SshConnectionFailed, error.Code);
        Assert.Contains($"127.0.0.1:{closedPort}", error.Message);
        Assert.Contains("refused", error.Message);
    }

    [Fact]
    public void A_key_the_server_does_not_accept_is_refused_with_the_user_named()
    {
        var stranger = Path.Combine(_sshd.Root, "stranger_key");
        if (!File.Exists(stranger)) SshdFixture.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", stranger);

        var error = Assert.Throws<TtmException>(() => _factory.Connect(_sshd.Server() with { KeyFile = stranger }, CancellationToken.None));

        Assert.Equal(TtmErrorCode.SshConnectionFailed, error.Code);
        Assert.Contains($"refused the key {stranger} for user {_sshd.User}", error.Message);
    }

    private static int SshdFixtureFreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}

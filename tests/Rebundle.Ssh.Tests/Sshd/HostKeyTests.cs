using Rebundle.Errors;
using Rebundle.Remote;
using Rebundle.Ssh.Tests.Fixture;

namespace Rebundle.Ssh.Tests.Sshd;

/// <summary>Host-key verification against a real server's key: known, changed, unknown, trusted, pinned.</summary>
[Collection(SshdCollection.Name)]
public sealed class HostKeyTests : IDisposable
{
    private readonly SshdFixture _sshd;
    private readonly SshNetShellFactory _factory = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("rebundle-hostkeys-").FullName;

    public HostKeyTests(SshdFixture sshd) => _sshd = sshd;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void A_changed_host_key_is_refused_showing_the_presented_fingerprint_and_how_to_fix_it()
    {
        var otherKey = Path.Combine(_dir, "other");
        SshdFixture.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", otherKey);
        var knownHosts = Path.Combine(_dir, "known_hosts");
        File.WriteAllText(knownHosts, $"[127.0.0.1]:{_sshd.Port} " + string.Join(" ", File.ReadAllText(otherKey + ".pub").Split(' ').Take(2)) + "\n");

        var error = Assert.Throws<TtmException>(() => _factory.Connect(_sshd.Server() with { KnownHostsFile = knownHosts, TrustNewHostKey = true }, CancellationToken.None));

        Assert.Equal(TtmErrorCode.SshHostKeyRejected, error.Code);
        Assert.Contains("CHANGED", error.Message);
        Assert.Contains(_sshd.HostKeyFingerprint, error.Message);
        Assert.Contains($"ssh-keygen -R '[127.0.0.1]:{_sshd.Port}'", error.Message);
        Assert.Single(File.ReadAllLines(knownHosts)); // trusting new keys never overwrites a changed one
    }

    [Fact]
    public void An_unknown_host_key_is_refused_then_trusted_with_the_switch_and_remembered()
    {
        var knownHosts = Path.Combine(_dir, "ssh", "known_hosts"); // the folder does not exist yet either
        var settings = _sshd.Server() with { KnownHostsFile = knownHosts };

        var error = Assert.Throws<TtmException>(() => _factory.Connect(settings, CancellationToken.None));
        Assert.Equal(TtmErrorCode.SshHostKeyRejected, error.Code);
        Assert.Contains("not known", error.Message);
        Assert.Contains(_sshd.HostKeyFingerprint, error.Message);
        Assert.Contains("-TrustNewHostKey", error.Message);
        Assert.False(File.Exists(knownHosts));

        using (var shell = _factory.Connect(settings with { TrustNewHostKey = true }, CancellationToken.None))
            Assert.Equal(0, shell.Run("true", TimeSpan.FromSeconds(20), CancellationToken.None).ExitCode);
        Assert.Equal(new[] { _sshd.KnownHostsLine }, File.ReadAllLines(knownHosts));

        using (var again = _factory.Connect(settings, CancellationToken.None))
            Assert.Equal(0, again.Run("true", TimeSpan.FromSeconds(20), CancellationToken.None).ExitCode);
        Assert.Single(File.ReadAllLines(knownHosts));

        // OpenSSH's own client agrees with the line we wrote.
        var sshSays = SshdFixture.Run("ssh-keygen", "-F", $"[127.0.0.1]:{_sshd.Port}", "-f", knownHosts);
        Assert.Contains("ssh-ed25519", sshSays);
    }

    [Fact]
    public void A_hashed_known_hosts_entry_written_by_ssh_keygen_is_honoured()
    {
        var knownHosts = Path.Combine(_dir, "known_hosts");
        File.WriteAllText(knownHosts, _sshd.KnownHostsLine + "\n");
        SshdFixture.Run("ssh-keygen", "-H", "-f", knownHosts);
        Assert.StartsWith("|1|", File.ReadAllText(knownHosts));

        using var shell = _factory.Connect(_sshd.Server() with { KnownHostsFile = knownHosts }, CancellationToken.None);

        Assert.Equal(0, shell.Run("true", TimeSpan.FromSeconds(20), CancellationToken.None).ExitCode);
    }

    [Fact]
    public void A_pinned_fingerprint_admits_the_server_and_a_wrong_one_refuses_it()
    {
        var noFile = Path.Combine(_dir, "none");
        using (var shell = _factory.Connect(_sshd.Server() with { KnownHostsFile = noFile, HostKeyFingerprints = new[] { _sshd.HostKeyFingerprint } }, CancellationToken.None))
            Assert.Equal(0, shell.Run("true", TimeSpan.FromSeconds(20), CancellationToken.None).ExitCode);

        var error = Assert.Throws<TtmException>(() => _factory.Connect(
            _sshd.Server() with { HostKeyFingerprints = new[] { "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" } }, CancellationToken.None));
        Assert.Equal(TtmErrorCode.SshHostKeyRejected, error.Code);
        Assert.Contains("pinned", error.Message);
        Assert.Contains(_sshd.HostKeyFingerprint, error.Message);
    }

    [Fact]
    public void Parallel_first_connections_with_trust_add_the_key_once()
    {
        var knownHosts = Path.Combine(_dir, "known_hosts");
        var targets = Enumerable.Range(1, 4).Select(i => _sshd.Server($"NodeAppServer.{i}") with { KnownHostsFile = knownHosts, TrustNewHostKey = true }).ToList();

        var outcomes = new RemoteRunner(_factory, new RecordingReporter(), 4)
            .Run("trust", targets, w => w.Shell.Run("true", TimeSpan.FromSeconds(20), w.Cancellation), CancellationToken.None).ToList();

        Assert.All(outcomes, o => Assert.Null(o.Error));
        Assert.Equal(new[] { _sshd.KnownHostsLine }, File.ReadAllLines(knownHosts));
    }

    [Fact]
    public void A_known_hosts_file_that_cannot_be_written_refuses_instead_of_trusting()
    {
        var notAFile = Directory.CreateDirectory(Path.Combine(_dir, "known_hosts_dir")).FullName;

        var error = Assert.Throws<TtmException>(() => _factory.Connect(_sshd.Server() with { KnownHostsFile = notAFile, TrustNewHostKey = true }, CancellationToken.None));

        Assert.Equal(TtmErrorCode.SshHostKeyRejected, error.Code);
        Assert.Contains("cannot be read or written", error.Message);
    }
}

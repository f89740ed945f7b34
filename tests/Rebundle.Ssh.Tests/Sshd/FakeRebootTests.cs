using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Rebundle.Errors;
using Rebundle.Remote;
using Rebundle.Ssh.Tests.Fixture;

namespace Rebundle.Ssh.Tests.Sshd;

/// <summary>
/// The fake reboot behaves as a real one seen from outside, so the reboot wait is tested
/// against the real thing: the connection drops, the port refuses, and it answers again later.
/// </summary>
[Collection(SshdCollection.Name)]
public sealed class FakeRebootTests
{
    private readonly SshdFixture _sshd;

    public FakeRebootTests(SshdFixture sshd)
    {
        _sshd = sshd;
        _sshd.ResetState();
    }

    [Fact]
    public void Reboot_drops_every_connection_refuses_new_ones_then_answers_with_a_new_boot_time()
    {
        File.WriteAllText(_sshd.State("reboot-delay"), "3");
        var factory = new SshNetShellFactory();
        using var other = factory.Connect(_sshd.Server("Sidekiq.1"), CancellationToken.None);
        using var shell = factory.Connect(_sshd.Server(), CancellationToken.None);
        var watch = Stopwatch.StartNew();

        var dropped = Assert.Throws<TtmException>(() => shell.Run("reboot", TimeSpan.FromSeconds(20), CancellationToken.None));

        Assert.Equal(TtmErrorCode.SshConnectionFailed, dropped.Code);
        Assert.Contains("dropped while running 'reboot'", dropped.Message);
        Assert.Equal(TtmErrorCode.SshConnectionFailed, Assert.Throws<TtmException>(() => other.Run("true", TimeSpan.FromSeconds(20), CancellationToken.None)).Code);
        var refused = RefusedWithin(TimeSpan.FromSeconds(1.5));
        Assert.True(refused != null, "the port still took connections 1.5 s after the reboot dropped them");
        Assert.Equal(SocketError.ConnectionRefused, refused!.SocketErrorCode);
        Assert.Equal("2026-01-01 00:00:00", File.ReadAllText(_sshd.State("boot-time")).Trim());

        while (!_sshd.Answers() && watch.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(100);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(3), $"answered again after {watch.Elapsed}");
        using var back = factory.Connect(_sshd.Server(), CancellationToken.None);
        Assert.NotEqual("2026-01-01 00:00:00", back.Run("uptime -s", TimeSpan.FromSeconds(20), CancellationToken.None).StdOut.Trim());
    }

    // The sessions' sshd processes and the listener are killed together, but a loaded machine
    // may close the listening socket a moment after the sessions drop (as a real reboot does):
    // the port must refuse soon, well inside the reboot's 3 s.
    private SocketException? RefusedWithin(TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, _sshd.Port);
            }
            catch (SocketException refused)
            {
                return refused;
            }
            if (watch.Elapsed > limit) return null;
            Thread.Sleep(50);
        }
    }
}

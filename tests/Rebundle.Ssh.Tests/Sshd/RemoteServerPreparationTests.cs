using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Remote;
using Rebundle.Runbook;
using Rebundle.Ssh.Tests.Fixture;

namespace Rebundle.Ssh.Tests.Sshd;

/// <summary>The rebundle's remote steps (IServerPreparation) over SSH, end to end.</summary>
[Collection(SshdCollection.Name)]
public sealed class RemoteServerPreparationTests
{
    private readonly SshdFixture _sshd;

    public RemoteServerPreparationTests(SshdFixture sshd)
    {
        _sshd = sshd;
        _sshd.ResetState();
    }

    private RemoteServerPreparation Preparation(params ServerCheck[] checks)
    {
        var options = new SshOptions { Address = "127.0.0.1", Port = _sshd.Port, User = _sshd.User, KeyFile = _sshd.KeyFile, KnownHostsFile = _sshd.KnownHostsFile };
        var update = new OsUpdateOptions { RebootTimeout = TimeSpan.FromSeconds(30), RebootPollInterval = TimeSpan.FromMilliseconds(500) };
        return new RemoteServerPreparation(new SshNetShellFactory(), new SshTargets(options, new KeyFileResolver(_sshd.Root, File.Exists)), update,
            new ServerVerifier(checks, TimeSpan.FromSeconds(20)), SystemClock.Instance, new RecordingReporter());
    }

    private static Server Server(string alias) => new() { Farm = "Rebundle-Staging", FarmId = "farm-1", Alias = alias, Index = 1, Region = "sandbox", PublicIp = "203.0.113.1" };

    [Fact]
    public void The_os_update_installs_and_reboots_every_base_server()
    {
        Preparation().UpdateOs(new[] { Server("TTM-Base") }, new[] { "htop" }, CancellationToken.None);

        Assert.Contains("-y install htop", File.ReadAllText(_sshd.State("apt.log")));
        Assert.Single(File.ReadAllLines(_sshd.State("reboot.log")));
        Assert.NotEqual("2026-01-01 00:00:00", File.ReadAllText(_sshd.State("boot-time")).Trim());
    }

    [Fact]
    public void A_failing_os_update_throws_with_aptS_reason()
    {
        File.WriteAllText(_sshd.State("apt-locked"), "");

        var error = Assert.Throws<TtmException>(() => Preparation().UpdateOs(new[] { Server("TTM-Base") }, Array.Empty<string>(), CancellationToken.None));

        Assert.Equal(TtmErrorCode.SshCommandFailed, error.Code);
        Assert.False(File.Exists(_sshd.State("reboot.log")));
    }

    [Fact]
    public void Verify_lists_each_failed_check_by_server_and_nothing_when_all_pass()
    {
        var preparation = Preparation(new ServerCheck(ServerCheckKind.Chef, _sshd.ChefCache), new ServerCheck(ServerCheckKind.Service, "nginx"));
        var servers = new[] { Server("RailsAppServer"), Server("Sidekiq") };

        var failures = preparation.Verify(servers, CancellationToken.None);
        File.WriteAllText(_sshd.State("active-services"), "nginx\n");
        var none = preparation.Verify(servers, CancellationToken.None);

        Assert.Equal(new[] { "RailsAppServer.1: Service nginx: inactive", "Sidekiq.1: Service nginx: inactive" }, failures.OrderBy(f => f));
        Assert.Empty(none);
    }
}

using Rebundle.Remote;
using Rebundle.Ssh.Tests.Fixture;

namespace Rebundle.Ssh.Tests.Sshd;

/// <summary>Test-TtmServer's checks against a real sshd with fake systemctl, dpkg-query and Chef cache.</summary>
[Collection(SshdCollection.Name)]
public sealed class ServerCheckTests
{
    private readonly SshdFixture _sshd;

    public ServerCheckTests(SshdFixture sshd)
    {
        _sshd = sshd;
        _sshd.ResetState();
    }

    private IReadOnlyList<ServerCheckResult> Verify(params ServerCheck[] checks)
    {
        var verifier = new ServerVerifier(checks, TimeSpan.FromSeconds(20));
        var outcome = Assert.Single(new RemoteRunner(new SshNetShellFactory(), new RecordingReporter())
            .Run("Checking", new[] { _sshd.Server("RailsAppServer.1") }, verifier.Verify, CancellationToken.None));
        Assert.Null(outcome.Error);
        return outcome.Result!;
    }

    private ServerCheck Chef => new(ServerCheckKind.Chef, _sshd.ChefCache);

    [Fact]
    public void Chef_passes_after_a_completed_run()
    {
        var result = Assert.Single(Verify(Chef));

        Assert.True(result.Passed, result.Detail);
        Assert.Equal("Chef", result.Check);
        Assert.Equal("RailsAppServer.1", result.Server);
        Assert.Contains("last run succeeded", result.Detail);
    }

    [Fact]
    public void Chef_fails_when_the_last_run_left_a_failure_report_and_shows_its_exception()
    {
        File.WriteAllText(Path.Combine(_sshd.ChefCache, "failed-run-data.json"),
            "{\n  \"node\": {},\n  \"exception\": \"Chef::Exceptions::Exec: apt-get -q -y install npm returned 100, expected 0\"\n}\n");

        var result = Assert.Single(Verify(Chef));

        Assert.False(result.Passed);
        Assert.Contains("last run failed", result.Detail);
        Assert.Contains("apt-get -q -y install npm returned 100", result.Detail);
    }

    [Fact]
    public void Chef_fails_while_chef_client_is_still_running()
    {
        File.WriteAllText(Path.Combine(_sshd.ChefCache, "chef-client-running.pid"), Environment.ProcessId.ToString());

        var result = Assert.Single(Verify(Chef));

        Assert.False(result.Passed);
        Assert.Contains("still running", result.Detail);
    }

    [Fact]
    public void Chef_passes_when_the_pid_file_is_stale()
    {
        File.WriteAllText(Path.Combine(_sshd.ChefCache, "chef-client-running.pid"), "999999999");

        Assert.True(Assert.Single(Verify(Chef)).Passed);
    }

    [Fact]
    public void Chef_fails_when_it_never_ran()
    {
        Directory.Delete(Path.Combine(_sshd.ChefCache, "cookbooks"));

        var result = Assert.Single(Verify(Chef));

        Assert.False(result.Passed);
        Assert.Contains("has not run", result.Detail);
    }

    [Fact]
    public void Services_pass_when_active_and_fail_with_their_state_otherwise()
    {
        File.WriteAllText(_sshd.State("active-services"), "nginx\n");

        var results = Verify(new ServerCheck(ServerCheckKind.Service, "nginx"), new ServerCheck(ServerCheckKind.Service, "sidekiq"));

        Assert.True(results[0].Passed);
        Assert.Equal("active", results[0].Detail);
        Assert.False(results[1].Passed);
        Assert.Equal("Service sidekiq", results[1].Check);
        Assert.Equal("inactive", results[1].Detail);
    }

    [Fact]
    public void Packages_pass_when_installed_with_their_version_and_fail_when_missing()
    {
        File.WriteAllText(_sshd.State("packages"), "nginx 1.22.1-9\n");

        var results = Verify(new ServerCheck(ServerCheckKind.Package, "nginx"), new ServerCheck(ServerCheckKind.Package, "redis-server"));

        Assert.True(results[0].Passed);
        Assert.Equal("installed 1.22.1-9", results[0].Detail);
        Assert.False(results[1].Passed);
        Assert.Equal("not installed", results[1].Detail);
    }

    [Fact]
    public void Custom_commands_pass_on_exit_zero_and_fail_with_exit_code_and_message()
    {
        var results = Verify(
            new ServerCheck(ServerCheckKind.Command, "echo ruby 3.2"),
            new ServerCheck(ServerCheckKind.Command, "echo 'config missing' >&2; exit 4"));

        Assert.True(results[0].Passed);
        Assert.Equal("exit 0: ruby 3.2", results[0].Detail);
        Assert.False(results[1].Passed);
        Assert.Equal("exit 4: config missing", results[1].Detail);
    }

    [Fact]
    public void A_check_that_hangs_fails_alone_at_its_timeout()
    {
        var verifier = new ServerVerifier(new[] { new ServerCheck(ServerCheckKind.Command, "sleep 30"), new ServerCheck(ServerCheckKind.Command, "true") }, TimeSpan.FromSeconds(3));
        var outcome = Assert.Single(new RemoteRunner(new SshNetShellFactory(), new RecordingReporter())
            .Run("Checking", new[] { _sshd.Server() }, verifier.Verify, CancellationToken.None));

        Assert.False(outcome.Result![0].Passed);
        Assert.Contains("did not finish within 3s", outcome.Result[0].Detail);
        Assert.True(outcome.Result[1].Passed);
    }
}

using Rebundle.Errors;
using Rebundle.Remote;
using Rebundle.Runbook;
using Rebundle.Ssh.Tests.Fixture;

namespace Rebundle.Ssh.Tests.Sshd;

/// <summary>Update-TtmServerOs's logic end to end: fake apt-get and reboot behind a real sshd.</summary>
[Collection(SshdCollection.Name)]
public sealed class OsUpdateTests
{
    private const string UpgradeOutput = """
        Reading package lists...
        Building dependency tree...
        Calculating upgrade...
        The following packages have been kept back:
          linux-image-amd64
        The following packages will be upgraded:
          libssl3 openssl
        2 upgraded, 0 newly installed, 0 to remove and 1 not upgraded.
        Unpacking openssl (3.0.15-1~deb12u1) over (3.0.14-1~deb12u2) ...
        Setting up libssl3:amd64 (3.0.15-1~deb12u1) ...
        Setting up openssl (3.0.15-1~deb12u1) ...
        """;

    private readonly SshdFixture _sshd;

    public OsUpdateTests(SshdFixture sshd)
    {
        _sshd = sshd;
        _sshd.ResetState();
    }

    private List<RemoteOutcome<OsUpdateResult>> Update(OsUpdateOptions options, RecordingReporter reporter, params SshConnectionSettings[] servers)
    {
        var updater = new OsUpdater(options, SystemClock.Instance);
        return new RemoteRunner(new SshNetShellFactory(), reporter).Run("Updating", servers, updater.Update, CancellationToken.None).ToList();
    }

    [Fact]
    public void Upgrade_runs_apt_non_interactively_and_reports_what_was_upgraded()
    {
        File.WriteAllText(_sshd.State("apt-upgrade.out"), UpgradeOutput);
        var reporter = new RecordingReporter();

        var outcome = Assert.Single(Update(new OsUpdateOptions { Packages = new[] { "nginx" } }, reporter, _sshd.Server()));

        Assert.Null(outcome.Error);
        var result = outcome.Result!;
        Assert.Equal(new[] { "libssl3", "openssl" }, result.Upgraded);
        Assert.Equal(new[] { "nginx" }, result.Installed);
        Assert.Equal(new[] { "linux-image-amd64" }, result.KeptBack);
        Assert.Contains(new PackageChange("openssl", AptOutput.Upgraded, "3.0.15-1~deb12u1"), result.Changes);
        Assert.False(result.Rebooted);
        Assert.Contains(reporter.Warnings, w => w.Contains("linux-image-amd64"));

        var calls = File.ReadAllLines(_sshd.State("apt.log"));
        Assert.Equal(3, calls.Length);
        Assert.All(calls, c => Assert.StartsWith("DEBIAN_FRONTEND=noninteractive ", c));
        Assert.All(calls, c => Assert.Contains("-o DPkg::Lock::Timeout=300", c));
        Assert.EndsWith(" update", calls[0]);
        Assert.EndsWith("-y upgrade", calls[1]);
        Assert.Contains("--force-confold", calls[1]);
        Assert.EndsWith("-y install nginx", calls[2]);
    }

    [Fact]
    public void A_held_dpkg_lock_fails_the_server_with_aptS_message_and_what_to_do()
    {
        File.WriteAllText(_sshd.State("apt-locked"), "");

        var outcome = Assert.Single(Update(new OsUpdateOptions(), new RecordingReporter(), _sshd.Server("TTM-Base.2")));

        Assert.Equal(TtmErrorCode.SshCommandFailed, outcome.Error!.Code);
        Assert.Contains("apt-get update failed on TTM-Base.2 (exit 100)", outcome.Error.Message);
        Assert.Contains("unattended-upgr", outcome.Error.Message);
        Assert.Contains("lock", outcome.Error.Message);
    }

    [Fact]
    public void Reboot_waits_through_the_refused_connections_until_ssh_answers_with_a_new_boot_time()
    {
        File.WriteAllText(_sshd.State("reboot-delay"), "3");
        var reporter = new RecordingReporter();
        var options = new OsUpdateOptions { Reboot = true, RebootTimeout = TimeSpan.FromSeconds(40), RebootPollInterval = TimeSpan.FromMilliseconds(500) };
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var outcome = Assert.Single(Update(options, reporter, _sshd.Server()));

        Assert.Null(outcome.Error);
        var result = outcome.Result!;
        Assert.True(result.Rebooted);
        Assert.Equal("2026-01-01 00:00:00", result.BootTimeBefore);
        Assert.Equal(File.ReadAllText(_sshd.State("boot-time")).Trim(), result.BootTimeAfter);
        Assert.NotEqual(result.BootTimeBefore, result.BootTimeAfter);
        Assert.Single(File.ReadAllLines(_sshd.State("reboot.log")));
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(3), $"back after {watch.Elapsed}, before sshd was");
        // Each round after the first follows an attempt that was refused; the server never
        // answered with its old boot time, because it was down until it had a new one.
        var waiting = reporter.Progress.Where(p => p.ActivityId == OsUpdater.ProgressId && !p.Completed).Select(p => p.Status).ToList();
        Assert.True(waiting.Count(s => s.StartsWith("not answering yet", StringComparison.Ordinal)) >= 3, string.Join(" | ", waiting));
        Assert.DoesNotContain(waiting, s => s.Contains("old boot time"));
        Assert.Contains(reporter.Progress, p => p.ActivityId == OsUpdater.ProgressId && p.Completed);
    }

    [Fact]
    public void A_server_that_never_answers_again_ends_the_wait_at_the_timeout_saying_so()
    {
        File.WriteAllText(_sshd.State("reboot-never"), "");
        var options = new OsUpdateOptions { Reboot = true, RebootTimeout = TimeSpan.FromSeconds(4), RebootPollInterval = TimeSpan.FromMilliseconds(500) };
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var outcome = Assert.Single(Update(options, new RecordingReporter(), _sshd.Server("TTM-Base.4")));

        Assert.Equal(TtmErrorCode.SshTimeout, outcome.Error!.Code);
        Assert.Contains("TTM-Base.4 (127.0.0.1) did not come back within 00:00:04 after the reboot (not answering yet)", outcome.Error.Message);
        Assert.Contains("The updates are installed; check the server's console", outcome.Error.Message);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(20));
        Assert.False(_sshd.Answers(), "the fake server came back");
    }

    [Fact]
    public void A_server_that_comes_back_with_its_old_boot_time_ends_the_wait_at_the_timeout()
    {
        File.WriteAllText(_sshd.State("reboot-stuck"), "");
        var options = new OsUpdateOptions { Reboot = true, RebootTimeout = TimeSpan.FromSeconds(6), RebootPollInterval = TimeSpan.FromMilliseconds(500) };
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var outcome = Assert.Single(Update(options, new RecordingReporter(), _sshd.Server("TTM-Base.3")));

        Assert.Equal(TtmErrorCode.SshTimeout, outcome.Error!.Code);
        Assert.Contains("did not come back within", outcome.Error.Message);
        Assert.Contains("still up with the old boot time 2026-01-01 00:00:00", outcome.Error.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }

    [Fact]
    public void A_malformed_package_name_is_refused_before_anything_runs()
    {
        var error = Assert.Throws<TtmException>(() => new OsUpdater(new OsUpdateOptions { Packages = new[] { "nginx; rm -rf /" } }, SystemClock.Instance));

        Assert.Equal(TtmErrorCode.InvalidArgument, error.Code);
        Assert.False(File.Exists(_sshd.State("apt.log")));
    }
}

using System.Diagnostics;
using Rebundle.Errors;
using Rebundle.Remote;

namespace Rebundle.Ssh.Tests.Core;

/// <summary>The pure parts of remote work: key lookup, apt output, check planning and judging, quoting.</summary>
public sealed class RemoteLogicTests
{
    [Fact]
    public void An_explicit_key_file_wins_and_a_tilde_means_home()
    {
        var resolver = new KeyFileResolver("/home/op", path => path == "/home/op/keys/farm.pem");

        Assert.Equal("/home/op/keys/farm.pem", resolver.Resolve("~/keys/farm.pem", "42", "us-east-1", "RailsAppServer.1"));
    }

    [Fact]
    public void The_farm_key_convention_uses_farm_id_and_region()
    {
        var resolver = new KeyFileResolver("/home/op", path => path == "/home/op/.ssh/FARM-42.us-east-1.private.pem");

        Assert.Equal("/home/op/.ssh/FARM-42.us-east-1.private.pem", resolver.Resolve(null, "42", "us-east-1", "RailsAppServer.1"));
    }

    [Fact]
    public void A_missing_key_names_every_path_looked_at_and_what_to_do()
    {
        var looked = new List<string>();
        var resolver = new KeyFileResolver("/home/op", path => { looked.Add(path); return false; });

        var error = Assert.Throws<TtmException>(() => resolver.Resolve(null, "42", "eu-west-1", "Sidekiq.1"));

        Assert.Equal(TtmErrorCode.SshKeyNotFound, error.Code);
        Assert.Equal(new[] { "/home/op/.ssh/FARM-42.eu-west-1.private.pem" }, looked);
        Assert.Contains("/home/op/.ssh/FARM-42.eu-west-1.private.pem", error.Message);
        Assert.Contains("-KeyFile", error.Message);
        Assert.Equal("Sidekiq.1", error.Target);
    }

    [Fact]
    public void A_missing_explicit_key_is_not_replaced_by_the_convention()
    {
        var resolver = new KeyFileResolver("/home/op", path => path.Contains("FARM-"));

        var error = Assert.Throws<TtmException>(() => resolver.Resolve("/keys/gone.pem", "42", "us-east-1", "Sidekiq.1"));

        Assert.Contains("-KeyFile does not exist: /keys/gone.pem", error.Message);
    }

    [Fact]
    public void A_server_without_a_region_explains_why_no_path_was_tried()
    {
        var error = Assert.Throws<TtmException>(() => new KeyFileResolver("/home/op", _ => true).Resolve(null, "42", null, "Sidekiq.1"));

        Assert.Contains("no region", error.Message);
    }

    [Fact]
    public void Apt_output_gives_upgraded_and_new_packages_with_versions_and_kept_back_ones()
    {
        const string output = """
            The following packages have been kept back:
              linux-image-amd64
            The following NEW packages will be installed:
              libpcre2-posix3
            The following packages will be upgraded:
              curl libcurl4:amd64
              tzdata
            3 upgraded, 1 newly installed, 0 to remove and 1 not upgraded.
            Setting up tzdata (2026a-0+deb12u1) ...
            Setting up libcurl4:amd64 (7.88.1-10+deb12u9) ...
            Setting up libpcre2-posix3:amd64 (10.42-1) ...
            """;

        var changes = AptOutput.Changes(output);

        Assert.Equal(new[] { "curl", "libcurl4", "tzdata" }, changes.Where(c => c.Action == AptOutput.Upgraded).Select(c => c.Name));
        Assert.Equal(new PackageChange("libpcre2-posix3", AptOutput.Installed, "10.42-1"), changes.Single(c => c.Action == AptOutput.Installed));
        Assert.Equal("7.88.1-10+deb12u9", changes.Single(c => c.Name == "libcurl4").Version);
        Assert.Null(changes.Single(c => c.Name == "curl").Version);
        Assert.Equal(new[] { "linux-image-amd64" }, AptOutput.KeptBack(output));
    }

    [Fact]
    public void Nothing_to_upgrade_is_an_empty_list()
    {
        Assert.Empty(AptOutput.Changes("Reading package lists...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"));
    }

    [Theory]
    [InlineData("2026-01-01 00:00:00", "2026-01-01 00:00:00", false)]
    [InlineData("2026-01-01 00:00:00", "2026-01-01 00:00:01", false)] // uptime -s wobbles by a second
    [InlineData("2026-01-01 00:00:00", "2026-01-01 00:05:00", true)]
    [InlineData("@1767225600", "@1767225900", true)]
    [InlineData("@1767225600", "@1767225600", false)]
    public void A_reboot_is_a_boot_time_that_moved(string before, string after, bool changed)
    {
        Assert.Equal(changed, OsUpdater.BootTimeChanged(before, after));
    }

    [Fact]
    public void Apt_commands_are_non_interactive_wait_for_the_dpkg_lock_and_quote_packages()
    {
        var steps = new OsUpdater(new OsUpdateOptions { Packages = new[] { "nginx", "ruby=1:3.1" }, DpkgLockTimeout = TimeSpan.FromSeconds(90) }, Rebundle.Runbook.SystemClock.Instance).AptSteps();

        Assert.Equal(new[] { "apt-get update", "apt-get upgrade", "apt-get install" }, steps.Select(s => s.Name));
        Assert.All(steps, s => Assert.Contains("env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=90 ", s.Command));
        Assert.EndsWith("-y install 'nginx' 'ruby=1:3.1'", steps[2].Command);
    }

    [Fact]
    public void Quoting_survives_the_shell()
    {
        var text = "it's $HOME `id` \"x\"";

        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, ArgumentList = { "-c", "printf %s " + ShellText.Quote(text) } };
        using var sh = Process.Start(start)!;
        var output = sh.StandardOutput.ReadToEnd();
        sh.WaitForExit();

        Assert.Equal(text, output);
    }

    [Fact]
    public void Without_kinds_every_kind_runs_for_what_was_named_and_chef_always()
    {
        var checks = ServerCheck.Plan(null, null, new[] { "nginx" }, new[] { "ruby" }, new[] { "test -f /etc/app.yml" });

        Assert.Equal(new[] { "Chef", "Service nginx", "Package ruby", "Command test -f /etc/app.yml" }, checks.Select(c => c.Name));
        Assert.Equal(ServerCheck.DefaultChefCachePath, checks[0].Subject);
    }

    [Fact]
    public void Chosen_kinds_run_alone_and_must_have_subjects()
    {
        Assert.Equal(new[] { "Service nginx" }, ServerCheck.Plan(new[] { ServerCheckKind.Service }, null, new[] { "nginx" }, null, null).Select(c => c.Name));

        var empty = Assert.Throws<TtmException>(() => ServerCheck.Plan(new[] { ServerCheckKind.Package }, null, null, null, null));
        Assert.Contains("-PackageName", empty.Message);

        var leftOut = Assert.Throws<TtmException>(() => ServerCheck.Plan(new[] { ServerCheckKind.Chef }, null, new[] { "nginx" }, null, null));
        Assert.Contains("leaves out Service", leftOut.Message);
    }

    [Fact]
    public void Malformed_service_and_package_names_are_refused()
    {
        Assert.Throws<TtmException>(() => ServerCheck.Plan(null, null, new[] { "nginx; reboot" }, null, null));
        Assert.Throws<TtmException>(() => ServerCheck.Plan(null, null, null, new[] { "Ruby Gems" }, null));
    }

    [Theory]
    [InlineData("ok 2026-11-26 01:00:00", true, "last run succeeded")]
    [InlineData("running 812", false, "still running (pid 812)")]
    [InlineData("failed 2026-11-26 01:00:00\n\"exception\": \"Net::HTTPServerException: 412\"", false, "Net::HTTPServerException: 412")]
    [InlineData("never", false, "has not run")]
    public void The_chef_status_is_judged_from_the_script_output(string stdout, bool passed, string detail)
    {
        var (ok, text) = ServerVerifier.Judge(new ServerCheck(ServerCheckKind.Chef, "/var/chef/cache"), new SshCommandResult { StdOut = stdout });

        Assert.Equal(passed, ok);
        Assert.Contains(detail, text);
    }

    [Fact]
    public void An_encrypted_key_is_told_apart_from_a_plain_one()
    {
        Assert.True(PrivateKeyText.NeedsPassphrase("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----"));
        Assert.False(PrivateKeyText.NeedsPassphrase("-----BEGIN RSA PRIVATE KEY-----\nMIIEow==\n-----END RSA PRIVATE KEY-----"));
    }
}

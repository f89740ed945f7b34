using Rebundle.Errors;
using Rebundle.Remote;
using Rebundle.Ssh.Tests.Fixture;

namespace Rebundle.Ssh.Tests.Sshd;

/// <summary>One command on many servers (one sshd, one connection per server) with a throttle.</summary>
[Collection(SshdCollection.Name)]
public sealed class RemoteRunnerTests
{
    private readonly SshdFixture _sshd;

    public RemoteRunnerTests(SshdFixture sshd) => _sshd = sshd;

    /// <summary>Each run marks itself running, reports how many are running, waits, and unmarks.</summary>
    private string CountingCommand(string dir) =>
        $"d={ShellText.Quote(dir)}; touch \"$d/run.$$\"; sleep 1; ls \"$d\" | grep -c '^run\\.'; rm \"$d/run.$$\"";

    [Fact]
    public void Runs_on_every_server_and_never_more_at_once_than_the_throttle_limit()
    {
        var dir = Directory.CreateTempSubdirectory("rebundle-throttle-").FullName;
        var targets = Enumerable.Range(1, 5).Select(i => _sshd.Server($"RailsAppServer.{i}")).ToList();
        var reporter = new RecordingReporter();
        var caller = Environment.CurrentManagedThreadId;

        var outcomes = new RemoteRunner(new SshNetShellFactory(), reporter, throttleLimit: 2)
            .Run("Running a command", targets, w =>
            {
                w.Reporter.Verbose($"{w.Target.ServerName}: started");
                return w.Shell.Run(CountingCommand(dir), TimeSpan.FromSeconds(30), w.Cancellation);
            }, CancellationToken.None).ToList();

        Assert.Equal(targets.Select(t => t.ServerName).OrderBy(n => n), outcomes.Select(o => o.Result!.Server).OrderBy(n => n));
        var peaks = outcomes.Select(o => int.Parse(o.Result!.StdOut.Trim())).ToList();
        Assert.All(peaks, p => Assert.InRange(p, 1, 2));
        Assert.Equal(5, reporter.Verbose.Count(m => m.EndsWith(": started")));
        Assert.All(reporter.Threads, t => Assert.Equal(caller, t)); // reports reach the caller's thread only
        Assert.Contains(reporter.Progress, p => p.Completed);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Servers_run_side_by_side_when_the_limit_allows()
    {
        var dir = Directory.CreateTempSubdirectory("rebundle-parallel-").FullName;
        var targets = Enumerable.Range(1, 4).Select(i => _sshd.Server($"Sidekiq.{i}")).ToList();

        var outcomes = new RemoteRunner(new SshNetShellFactory(), new RecordingReporter())
            .Run("Running a command", targets, w => w.Shell.Run(CountingCommand(dir), TimeSpan.FromSeconds(30), w.Cancellation), CancellationToken.None).ToList();

        Assert.Equal(4, outcomes.Count);
        Assert.True(outcomes.Max(o => int.Parse(o.Result!.StdOut.Trim())) >= 2, "no two servers ever ran at the same time");
        Directory.Delete(dir, true);
    }

    [Fact]
    public void One_unreachable_server_fails_alone()
    {
        var targets = new[]
        {
            _sshd.Server("Reports.1"),
            _sshd.Server("Reports.2") with { KeyFile = Path.Combine(_sshd.Root, "missing.pem") },
            _sshd.Server("Reports.3"),
        };

        var outcomes = new RemoteRunner(new SshNetShellFactory(), new RecordingReporter())
            .Run("Running a command", targets, w => w.Shell.Run("hostname", TimeSpan.FromSeconds(20), w.Cancellation), CancellationToken.None)
            .ToDictionary(o => o.Target.ServerName);

        Assert.Null(outcomes["Reports.1"].Error);
        Assert.Null(outcomes["Reports.3"].Error);
        Assert.Equal(TtmErrorCode.SshKeyNotFound, outcomes["Reports.2"].Error!.Code);
        Assert.Equal("Reports.2", outcomes["Reports.2"].Error!.Target);
    }

    [Fact]
    public void Cancelling_stops_every_server_promptly()
    {
        var targets = Enumerable.Range(1, 3).Select(i => _sshd.Server($"DataLoad.{i}")).ToList();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var watch = System.Diagnostics.Stopwatch.StartNew();

        Assert.ThrowsAny<OperationCanceledException>(() => new RemoteRunner(new SshNetShellFactory(), new RecordingReporter())
            .Run("Running a command", targets, w => w.Shell.Run("sleep 60", TimeSpan.FromMinutes(2), w.Cancellation), cancel.Token).ToList());

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
    }

    [Fact]
    public void When_the_caller_stops_the_commands_are_already_gone_on_the_servers()
    {
        var unique = Random.Shared.Next(100000, 999999);
        var targets = Enumerable.Range(1, 3).Select(i => _sshd.Server($"DataLoad.{i}")).ToList();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(2));

        Assert.ThrowsAny<OperationCanceledException>(() => new RemoteRunner(new SshNetShellFactory(), new RecordingReporter())
            .Run("Running a command", targets, w => w.Shell.Run($"sleep 60.{unique}", TimeSpan.FromMinutes(2), w.Cancellation), cancel.Token).ToList());

        // Asked at once: Ctrl+C returns only after every server was told to stop its command.
        using var shell = new SshNetShellFactory().Connect(_sshd.Server(), CancellationToken.None);
        var left = shell.Run($"pgrep -af 'sleep 60[.]{unique}' || true", TimeSpan.FromSeconds(20), CancellationToken.None).StdOut;
        Assert.Equal("", left);
    }
}

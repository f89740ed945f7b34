using System.Diagnostics;
using Rebundle.Errors;
using Rebundle.Remote;
using Rebundle.Ssh.Tests.Fixture;

namespace Rebundle.Ssh.Tests.Sshd;

/// <summary>
/// A command stopped at its timeout or by Ctrl+C is killed on the server, background children
/// included: nothing it would have done later happens.
/// </summary>
[Collection(SshdCollection.Name)]
public sealed class RemoteStopTests
{
    private static readonly TimeSpan CommandRuns = TimeSpan.FromSeconds(4);
    private readonly SshdFixture _sshd;
    private readonly SshNetShellFactory _factory = new();

    public RemoteStopTests(SshdFixture sshd) => _sshd = sshd;

    [Fact]
    public void A_command_stopped_at_its_timeout_is_killed_on_the_server_with_its_background_children()
    {
        var run = new MarkedCommand(_sshd.Root);
        using var shell = _factory.Connect(_sshd.Server("Sidekiq.1"), CancellationToken.None);
        var watch = Stopwatch.StartNew();

        var error = Assert.Throws<TtmException>(() => shell.Run(run.Command, TimeSpan.FromSeconds(2), CancellationToken.None));

        Assert.Equal(TtmErrorCode.SshTimeout, error.Code);
        Assert.Contains("stopped on the server", error.Message);
        Assert.Contains("-Timeout", error.Message);
        Assert.True(watch.Elapsed < CommandRuns, $"the timeout took {watch.Elapsed}");
        Assert.Equal("", StillRunning(run));
        run.AssertNothingHappenedLater();
    }

    [Fact]
    public void A_cancelled_command_is_killed_on_the_server_with_its_background_children()
    {
        var run = new MarkedCommand(_sshd.Root);
        using var shell = _factory.Connect(_sshd.Server(), CancellationToken.None);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var watch = Stopwatch.StartNew();

        Assert.ThrowsAny<OperationCanceledException>(() => shell.Run(run.Command, TimeSpan.FromMinutes(1), cancel.Token));

        Assert.True(watch.Elapsed < CommandRuns, $"cancelling took {watch.Elapsed}");
        Assert.Equal("", StillRunning(run));
        run.AssertNothingHappenedLater();
    }

    [Fact]
    public void The_connection_still_runs_commands_after_a_command_was_stopped()
    {
        using var shell = _factory.Connect(_sshd.Server(), CancellationToken.None);
        Assert.Throws<TtmException>(() => shell.Run("sleep 30", TimeSpan.FromSeconds(1), CancellationToken.None));

        var next = shell.Run("echo still here; exit 4", TimeSpan.FromSeconds(20), CancellationToken.None);

        Assert.Equal(4, next.ExitCode);
        Assert.Equal("still here\n", next.StdOut);
        Assert.Equal("", next.StdErr);
    }

    /// <summary>The processes of <paramref name="run"/> left on the server, asked over a second connection.</summary>
    private string StillRunning(MarkedCommand run)
    {
        using var shell = _factory.Connect(_sshd.Server(), CancellationToken.None);
        return shell.Run($"pgrep -af {ShellText.Quote(run.ProcessPattern)} || true", TimeSpan.FromSeconds(20), CancellationToken.None).StdOut;
    }

    /// <summary>
    /// A command whose processes are found by unique sleep lengths: a background child and
    /// the command itself each sleep about four seconds, then touch a marker file.
    /// </summary>
    private sealed class MarkedCommand
    {
        private readonly string _parentMarker;
        private readonly string _childMarker;
        private readonly string _startedMarker;
        private readonly string _controlMarker;

        public MarkedCommand(string folder)
        {
            var unique = Random.Shared.Next(100000, 999999).ToString();
            var id = Guid.NewGuid().ToString("n");
            _startedMarker = Path.Combine(folder, $"started-{id}");
            _parentMarker = Path.Combine(folder, $"parent-{id}");
            _childMarker = Path.Combine(folder, $"child-{id}");
            _controlMarker = Path.Combine(folder, $"control-{id}");
            Command = $"touch {_startedMarker}; (sleep {CommandRuns.TotalSeconds}.{unique}1; touch {_childMarker}) & sleep {CommandRuns.TotalSeconds}.{unique}2; touch {_parentMarker}";
            // [.] so the pattern does not match the shell that runs pgrep with it.
            ProcessPattern = $"sleep {CommandRuns.TotalSeconds}[.]{unique}";
        }

        public string Command { get; }

        public string ProcessPattern { get; }

        /// <summary>
        /// Waits for the moment the stopped processes would have touched their markers, had they
        /// lived: a control process started only now (after the command had started) sleeps as long
        /// as they did, then touches its own marker. Waiting for that event rather than for a fixed
        /// time keeps the proof when the machine is slow: a late start delays the control too.
        /// </summary>
        public void AssertNothingHappenedLater()
        {
            Assert.True(File.Exists(_startedMarker), "the command never started on the server, so stopping it proves nothing");
            using (var control = Process.Start("sh", new[] { "-c", $"sleep {CommandRuns.TotalSeconds}.5; touch '{_controlMarker}'" }))
            {
                Assert.True(control.WaitForExit(60_000), "the control process did not finish its sleep within 60s");
            }
            Assert.True(File.Exists(_controlMarker), "the control process did not touch its marker");
            Assert.False(File.Exists(_parentMarker), "the stopped command went on and touched its marker");
            Assert.False(File.Exists(_childMarker), "the stopped command's background child went on and touched its marker");
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using Rebundle.Errors;
using Rebundle.Runbook;

namespace Rebundle.Remote
{
    /// <summary>One apt-get run: its name for messages and the command line.</summary>
    public sealed record AptStep(string Name, string Command);

    /// <summary>
    /// Runbook step 1 on one server: non-interactive <c>apt-get update</c>, <c>upgrade -y</c>,
    /// optional <c>install</c>, optional reboot with a bounded wait until SSH answers again and
    /// the boot time has changed.
    /// </summary>
    public sealed class OsUpdater
    {
        public const int ProgressId = 62;

        /// <summary>Prints the boot time; <c>uptime -s</c> where procps has it, else the kernel's btime.</summary>
        public const string BootTimeCommand = "uptime -s 2>/dev/null || awk '/^btime/ {print \"@\" $2}' /proc/stat";

        private readonly OsUpdateOptions _options;
        private readonly IClock _clock;

        public OsUpdater(OsUpdateOptions options, IClock clock)
        {
            _options = options;
            _clock = clock;
            var bad = options.Packages.Where(p => !ShellText.IsPackageName(p)).ToList();
            if (bad.Count > 0)
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    $"Not a Debian package name: {string.Join(", ", bad)}. Use names like nginx, libssl3 or nginx=1.22.1-9.", string.Join(", ", bad));
        }

        /// <summary>The apt steps, in order, with the command lines as they will run.</summary>
        public IReadOnlyList<AptStep> AptSteps()
        {
            var apt = ShellText.AsRoot + "env DEBIAN_FRONTEND=noninteractive apt-get -q " +
                      $"-o DPkg::Lock::Timeout={(int)_options.DpkgLockTimeout.TotalSeconds} ";
            // Keep the existing config file when a package ships a new one: never stop to ask.
            const string keepConfig = "-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold ";
            var steps = new List<AptStep>
            {
                new AptStep("apt-get update", apt + "update"),
                new AptStep("apt-get upgrade", apt + keepConfig + "-y upgrade"),
            };
            if (_options.Packages.Count > 0)
                steps.Add(new AptStep("apt-get install", apt + keepConfig + "-y install " + string.Join(" ", _options.Packages.Select(ShellText.Quote))));
            return steps;
        }

        /// <summary>What will happen, in one sentence, for ShouldProcess.</summary>
        public string Describe() =>
            "apt-get update, apt-get upgrade -y" +
            (_options.Packages.Count > 0 ? ", apt-get install " + string.Join(" ", _options.Packages) : "") +
            (_options.Reboot ? ", then reboot and wait until SSH answers again" : "");

        public OsUpdateResult Update(RemoteWork work)
        {
            var started = Stopwatch.StartNew();
            var target = work.Target;
            var changes = new List<PackageChange>();
            var keptBack = new List<string>();
            foreach (var step in AptSteps())
            {
                work.Cancellation.ThrowIfCancellationRequested();
                work.Reporter.Verbose($"{target.Label}: running {step.Name}");
                var result = work.Shell.Run(step.Command, _options.AptTimeout, work.Cancellation);
                if (!result.Succeeded) throw AptFailed(target, step.Name, result);
                changes.AddRange(AptOutput.Changes(result.StdOut));
                keptBack.AddRange(AptOutput.KeptBack(result.StdOut));
            }

            var outcome = new OsUpdateResult
            {
                Server = target.ServerName,
                Farm = target.Farm,
                Address = target.Address,
                Changes = changes.GroupBy(c => c.Name).Select(g => g.Last()).ToList(),
                KeptBack = keptBack.Distinct().Except(changes.Select(c => c.Name)).ToList(),
            };
            if (outcome.KeptBack.Count > 0)
                work.Reporter.Warning($"{target.Label}: apt kept back {string.Join(", ", outcome.KeptBack)}; install them with -Package to upgrade them.");
            if (_options.Reboot) outcome = Reboot(work, outcome);
            return outcome with { Duration = started.Elapsed };
        }

        private OsUpdateResult Reboot(RemoteWork work, OsUpdateResult outcome)
        {
            var target = work.Target;
            var before = ReadBootTime(work.Shell, work);
            work.Reporter.Verbose($"{target.Label}: booted at {before}; rebooting");
            try
            {
                // Over SSM the agent reboots (exit 194) and the command ends once the server is back: give it the reboot timeout.
                var result = target.Transport == RemoteTransport.Ssm
                    ? work.Shell.Run(ShellText.RebootThroughAgent(Guid.NewGuid().ToString("N").Substring(0, 12)), _options.RebootTimeout, work.Cancellation)
                    : work.Shell.Run(ShellText.AsRoot + "reboot", TimeSpan.FromSeconds(30), work.Cancellation);
                if (!result.Succeeded)
                    throw new TtmException(TtmErrorCode.SshCommandFailed,
                        $"reboot failed on {target.Label} (exit {result.ExitCode}): {LastLine(result.StdErr, result.StdOut)}. The updates are installed; reboot the server by hand.", target.Label);
            }
            catch (TtmException dropped) when (dropped.Code == TtmErrorCode.SshConnectionFailed || dropped.Code == TtmErrorCode.SshTimeout)
            {
                // Expected: the server went down under the command.
            }

            work.Shell.Dispose();
            var after = WaitForNewBoot(work, before);
            return outcome with { Rebooted = true, BootTimeBefore = before, BootTimeAfter = after };
        }

        /// <summary>Reconnects until the boot time differs from <paramref name="before"/>, within the reboot timeout.</summary>
        private string WaitForNewBoot(RemoteWork work, string before)
        {
            var target = work.Target;
            var deadline = _clock.UtcNow + _options.RebootTimeout;
            var activity = $"Waiting for {target.Label} to come back after reboot";
            string lastState = "not answering yet";
            while (true)
            {
                var left = deadline - _clock.UtcNow;
                work.Reporter.Progress(new ProgressReport(ProgressId, activity,
                    $"{lastState}; {Math.Max(0, (int)left.TotalSeconds)}s left of {(int)_options.RebootTimeout.TotalSeconds}s",
                    (int)Math.Min(99, Math.Max(0, 100 - left.TotalMilliseconds * 100 / _options.RebootTimeout.TotalMilliseconds))));
                if (left <= TimeSpan.Zero)
                    throw new TtmException(TtmErrorCode.SshTimeout,
                        $"{target.Label} ({target.Address}) did not come back within {_options.RebootTimeout} after the reboot ({lastState}). " +
                        "The updates are installed; check the server's console, then run Test-TtmServer on it.", target.Label);
                _clock.Sleep(left < _options.RebootPollInterval ? left : _options.RebootPollInterval, work.Cancellation);

                IRemoteShell? shell = null;
                try
                {
                    var attemptTimeout = Min(target.ConnectTimeout, deadline - _clock.UtcNow);
                    if (attemptTimeout <= TimeSpan.Zero) continue;
                    shell = work.Factory.Connect(target with { ConnectTimeout = attemptTimeout }, work.Cancellation);
                    var now = ReadBootTime(shell, work);
                    if (BootTimeChanged(before, now))
                    {
                        work.Shell = shell;
                        work.Reporter.Progress(new ProgressReport(ProgressId, activity, "Back", 100, Completed: true));
                        work.Reporter.Verbose($"{target.Label}: back, booted at {now}");
                        return now;
                    }

                    lastState = $"still up with the old boot time {now}";
                    shell.Dispose();
                }
                catch (TtmException waiting) when (waiting.Code == TtmErrorCode.SshConnectionFailed || waiting.Code == TtmErrorCode.SshTimeout || waiting.Code == TtmErrorCode.ServerUnreachable)
                {
                    shell?.Dispose();
                    // Keep "still up with the old boot time": it tells the operator more than a last cut-short attempt.
                    if (!lastState.StartsWith("still up", StringComparison.Ordinal)) lastState = "not answering yet";
                }
            }
        }

        /// <summary>
        /// Has the server booted again? The text differs, and when both are times, by more
        /// than two seconds: <c>uptime -s</c> computes the boot time as now minus uptime, so
        /// two readings of one boot can differ by a second.
        /// </summary>
        public static bool BootTimeChanged(string before, string after)
        {
            if (string.Equals(before.Trim(), after.Trim(), StringComparison.Ordinal)) return false;
            if (TryParseBootTime(before, out var b) && TryParseBootTime(after, out var a))
                return Math.Abs((a - b).TotalSeconds) > 2;
            return true;
        }

        private static bool TryParseBootTime(string text, out DateTime time)
        {
            text = text.Trim();
            if (text.StartsWith("@", StringComparison.Ordinal) && long.TryParse(text.Substring(1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var epoch))
            {
                time = DateTimeOffset.FromUnixTimeSeconds(epoch).UtcDateTime;
                return true;
            }

            return DateTime.TryParseExact(text, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out time);
        }

        private static string ReadBootTime(IRemoteShell shell, RemoteWork work)
        {
            var result = shell.Run(BootTimeCommand, TimeSpan.FromSeconds(30), work.Cancellation);
            var text = result.StdOut.Trim();
            if (!result.Succeeded || text.Length == 0)
                throw new TtmException(TtmErrorCode.SshCommandFailed,
                    $"Could not read the boot time of {work.Target.Label} (exit {result.ExitCode}): {LastLine(result.StdErr, result.StdOut)}. Without it a reboot cannot be confirmed; reboot by hand.", work.Target.Label);
            return text;
        }

        private static TtmException AptFailed(SshConnectionSettings target, string verb, SshCommandResult result)
        {
            var detail = LastLine(result.StdErr, result.StdOut);
            var hint = detail.IndexOf("lock", StringComparison.OrdinalIgnoreCase) >= 0
                ? " Another apt or dpkg (often unattended-upgrades) held the dpkg lock past the lock timeout; wait for it and run again."
                : detail.IndexOf("sudo", StringComparison.OrdinalIgnoreCase) >= 0
                    ? " The user needs root or password-less sudo; use -User root or grant sudo."
                    : " Run the command on the server to see the whole output.";
            return new TtmException(TtmErrorCode.SshCommandFailed, $"{verb} failed on {target.Label} (exit {result.ExitCode}): {detail}.{hint}", target.Label);
        }

        internal static string LastLine(string preferred, string fallback)
        {
            var text = string.IsNullOrWhiteSpace(preferred) ? fallback : preferred;
            var lines = text.Replace("\r", "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
            return lines.Count == 0 ? "no output" : lines[lines.Count - 1];
        }

        private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
    }
}

using Rebundle.Errors;

namespace Rebundle.Remote
{
    /// <summary>
    /// Runs checks on one server (runbook step 5: "verify that chef configured the role").
    /// Each check is one command over the open connection; a check that times out fails on
    /// its own, a dropped connection fails the server.
    ///
    /// The Chef check reads chef-client's own files in its file cache (default
    /// <c>/var/chef/cache</c>): a <c>chef-client-running.pid</c> whose process lives means
    /// Chef is still running (fail); <c>failed-run-data.json</c>, written by Chef's built-in
    /// error_report handler on every failed run, means the last run failed (fail, with its
    /// exception); a <c>cookbooks</c> directory without either means a run completed (pass);
    /// none of them means Chef never ran (fail).
    /// </summary>
    public sealed class ServerVerifier
    {
        private readonly IReadOnlyList<ServerCheck> _checks;
        private readonly TimeSpan _timeout;

        public ServerVerifier(IReadOnlyList<ServerCheck> checks, TimeSpan commandTimeout)
        {
            _checks = checks;
            _timeout = commandTimeout;
        }

        public IReadOnlyList<ServerCheck> Checks => _checks;

        /// <summary>Whether the checks include commands of the operator's own (which need approval to run).</summary>
        public bool RunsCommands => _checks.Any(c => c.Kind == ServerCheckKind.Command);

        /// <summary>The detail of a command check that was not approved.</summary>
        public const string NotApproved = "not run: not approved (-WhatIf, or No at the prompt)";

        /// <summary>Whether any check only reads (Chef, Service, Package): worth connecting for even when no command may run.</summary>
        public bool HasReadOnlyChecks => _checks.Any(c => c.Kind != ServerCheckKind.Command);

        /// <summary>The results for a server none of whose checks may run: every one not approved.</summary>
        public IReadOnlyList<ServerCheckResult> NotApprovedResults(string server, string farm) =>
            _checks.Select(c => new ServerCheckResult { Server = server, Farm = farm, Check = c.Name, Kind = c.Kind, Passed = false, Detail = NotApproved }).ToList();

        public IReadOnlyList<ServerCheckResult> Verify(RemoteWork work) => Verify(work, runCommands: true);

        /// <param name="runCommands">
        /// False when the operator did not approve the command checks: the read-only checks run,
        /// each command check fails as <see cref="NotApproved"/>, so the server is never passed
        /// on as verified.
        /// </param>
        public IReadOnlyList<ServerCheckResult> Verify(RemoteWork work, bool runCommands)
        {
            var results = new List<ServerCheckResult>();
            foreach (var check in _checks)
            {
                work.Cancellation.ThrowIfCancellationRequested();
                var result = new ServerCheckResult { Server = work.Target.ServerName, Farm = work.Target.Farm, Check = check.Name, Kind = check.Kind };
                if (check.Kind == ServerCheckKind.Command && !runCommands)
                {
                    results.Add(result with { Passed = false, Detail = NotApproved });
                    continue;
                }

                try
                {
                    var output = work.Shell.Run(CommandFor(check), _timeout, work.Cancellation);
                    var (passed, detail) = Judge(check, output);
                    result = result with { Passed = passed, Detail = detail };
                }
                catch (TtmException timeout) when (timeout.Code == TtmErrorCode.SshTimeout)
                {
                    result = result with { Passed = false, Detail = $"did not finish within {_timeout.TotalSeconds:0}s" };
                }

                work.Reporter.Verbose(result.ToString());
                results.Add(result);
            }

            return results;
        }

        /// <summary>The shell command one check runs.</summary>
        public static string CommandFor(ServerCheck check) => check.Kind switch
        {
            ServerCheckKind.Chef => ChefStatusScript(check.Subject),
            ServerCheckKind.Service => "systemctl is-active " + ShellText.Quote(check.Subject),
            ServerCheckKind.Package => "dpkg-query -W -f='${Status}\\t${Version}' " + ShellText.Quote(check.Subject),
            _ => check.Subject,
        };

        /// <summary>Turns a check's command output into pass or fail with a detail in words.</summary>
        public static (bool Passed, string Detail) Judge(ServerCheck check, SshCommandResult output)
        {
            var stdout = output.StdOut.Trim();
            switch (check.Kind)
            {
                case ServerCheckKind.Chef:
                    return JudgeChef(check.Subject, stdout);
                case ServerCheckKind.Service:
                    var state = stdout.Length == 0 ? "unknown" : stdout.Split('\n')[0].Trim();
                    return (output.ExitCode == 0 && state == "active", state);
                case ServerCheckKind.Package:
                    var fields = stdout.Split('\t');
                    if (output.ExitCode == 0 && fields[0] == "install ok installed")
                        return (true, "installed" + (fields.Length > 1 && fields[1].Length > 0 ? " " + fields[1] : ""));
                    return (false, output.ExitCode != 0 || stdout.Length == 0 ? "not installed" : $"not installed (dpkg status: {fields[0]})");
                default:
                    var last = OsUpdater.LastLine(output.ExitCode == 0 ? output.StdOut : output.StdErr, output.ExitCode == 0 ? output.StdErr : output.StdOut);
                    return (output.ExitCode == 0, output.ExitCode == 0 ? $"exit 0: {last}" : $"exit {output.ExitCode}: {last}");
            }
        }

        /// <summary>Prints one of: <c>running PID</c>, <c>failed TIME</c> (+ the exception line), <c>ok TIME</c>, <c>never</c>.</summary>
        private static string ChefStatusScript(string cachePath) =>
            "cache=" + ShellText.Quote(cachePath) + "; " +
            "pid=$(cat \"$cache/chef-client-running.pid\" 2>/dev/null); " +
            "if [ -n \"$pid\" ] && [ -d \"/proc/$pid\" ]; then echo \"running $pid\"; " +
            "elif [ -f \"$cache/failed-run-data.json\" ]; then echo \"failed $(date -r \"$cache/failed-run-data.json\" '+%Y-%m-%d %H:%M:%S')\"; " +
            "grep -o '\"exception\": *\"[^\"]*\"' \"$cache/failed-run-data.json\" | head -n 1; " +
            "elif [ -d \"$cache/cookbooks\" ]; then echo \"ok $(date -r \"$cache/cookbooks\" '+%Y-%m-%d %H:%M:%S')\"; " +
            "else echo never; fi";

        private static (bool, string) JudgeChef(string cachePath, string stdout)
        {
            var lines = stdout.Replace("\r", "").Split('\n');
            var first = lines[0].Trim();
            var rest = first.IndexOf(' ') > 0 ? first.Substring(first.IndexOf(' ') + 1) : "";
            if (first.StartsWith("ok", StringComparison.Ordinal))
                return (true, $"last run succeeded (cookbooks cached {rest})");
            if (first.StartsWith("running", StringComparison.Ordinal))
                return (false, $"chef-client is still running (pid {rest}); wait for it to finish");
            if (first.StartsWith("failed", StringComparison.Ordinal))
            {
                var exception = lines.Length > 1 ? lines[1].Trim() : "";
                var cause = exception.Length > 0 ? exception.Substring(exception.IndexOf(':') + 1).Trim().Trim('"') : "see the failure report";
                return (false, $"last run failed at {rest}: {cause} ({cachePath}/failed-run-data.json)");
            }

            return (false, $"Chef has not run here: no {cachePath}/cookbooks and no failure report; wait for the first boot's Chef run, or check -ChefCachePath");
        }
    }
}

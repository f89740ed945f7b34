using System.Text.RegularExpressions;

namespace Rebundle.Remote
{
    /// <summary>
    /// A command run so that it can be stopped on the server. Closing the SSH channel does not
    /// stop what the command started: without a terminal, sshd sends no SIGHUP, and a
    /// background child outlives its shell anyway. So every command runs with a run id in its
    /// environment (<c>TTM_RUN_ID</c>), which every process it starts inherits, exec or not;
    /// <see cref="StopScript"/>, run over a second channel, finds them by it in /proc and kills
    /// their process groups (sshd starts each command as its own session and group), TERM first,
    /// then KILL.
    /// </summary>
    public sealed class StoppableCommand
    {
        public const string RunIdVariable = "TTM_RUN_ID";

        /// <summary>The last line <see cref="StopScript"/> prints when nothing of the run is left.</summary>
        public const string StoppedLine = "stopped";

        private static readonly Regex RunIdPattern = new Regex("^[A-Za-z0-9]+$", RegexOptions.CultureInvariant);

        public StoppableCommand(string command, string runId)
        {
            if (!RunIdPattern.IsMatch(runId)) throw new ArgumentException("A run id is letters and digits only.", nameof(runId));
            Command = command;
            RunId = runId;
        }

        /// <summary>A command with a new run id.</summary>
        public static StoppableCommand For(string command) => new StoppableCommand(command, Guid.NewGuid().ToString("N"));

        /// <summary>The command as the caller gave it (what results and messages show).</summary>
        public string Command { get; }

        public string RunId { get; }

        /// <summary>
        /// What is sent to the server: the login shell exports the run id and replaces itself
        /// (same pid, so still the leader of the command's process group) with the same shell
        /// running the command, so the leader carries the run id too (a shell's own /proc
        /// environ never shows what it exports later). <c>"$0"</c> keeps the name the shell's
        /// error messages start with.
        /// </summary>
        public string Text => $"{RunIdVariable}={RunId}; export {RunIdVariable}; exec \"${{SHELL:-/bin/sh}}\" -c {ShellText.Quote(Command)} \"$0\"";

        /// <summary>
        /// A POSIX shell script that kills every process carrying this run id: whole process
        /// groups when their leader carries it (the command's own group), otherwise the process
        /// alone (never a group the run merely joined). TERM, up to 3 s for it to work, then
        /// KILL. Prints <see cref="StoppedLine"/> and exits 0 once none is left; otherwise
        /// prints the pids left and exits 1.
        /// </summary>
        public string StopScript =>
            $"run={RunIdVariable}={RunId}\n" +
            // grep -z: environ is NUL-separated. Zombies have an empty environ and are not listed.
            "left() { grep -lxzF \"$run\" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 | tr '\\n' ' '; }\n" +
            "signal() {\n" +
            "  pids=$(left)\n" +
            "  for p in $pids; do\n" +
            "    g=$(ps -o pgid= -p \"$p\" 2>/dev/null | tr -d ' ')\n" +
            "    case \" $pids \" in *\" $g \"*) kill -s \"$1\" -- \"-$g\" 2>/dev/null ;; *) kill -s \"$1\" \"$p\" 2>/dev/null ;; esac\n" +
            "  done\n" +
            "}\n" +
            "signal TERM\n" +
            "i=0; while [ -n \"$(left)\" ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done\n" +
            "if [ -n \"$(left)\" ]; then signal KILL; sleep 0.2; fi\n" +
            "rest=$(left)\n" +
            $"if [ -n \"$rest\" ]; then echo \"still running: $rest\"; exit 1; fi\n" +
            $"echo {StoppedLine}\n";

        /// <summary>How an operator finds what is left of the run on the server, for messages.</summary>
        public string FindCommand => $"grep -lxzF {RunIdVariable}={RunId} /proc/[0-9]*/environ";

        /// <summary>Whether the stop script's result says nothing of the run is left.</summary>
        public static bool ConfirmsStop(SshCommandResult stopResult)
        {
            var lines = stopResult.StdOut.Trim().Split('\n');
            return stopResult.ExitCode == 0 && lines[lines.Length - 1].Trim() == StoppedLine;
        }
    }
}

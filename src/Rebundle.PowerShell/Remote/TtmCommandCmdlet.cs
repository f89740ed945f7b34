using Rebundle.Remote;

namespace Rebundle.PowerShell.Remote
{
    /// <summary>
    /// Invoke-TtmCommand and Invoke-TtmSsh: runs one command on every server piped in, -ThrottleLimit at a time. Outputs one
    /// result per server (exit code, output, error text, duration); a non-zero exit is also a
    /// non-terminating error for that server, so the other servers carry on. Every server is
    /// confirmed before any is connected to: -WhatIf lists servers and command and runs nothing,
    /// and a protected farm's server (Production) needs -Force, -Confirm:$false or a Yes.
    /// A command stopped at -Timeout or by Ctrl+C is killed on the server.
    /// </summary>
    public abstract class TtmCommandCmdlet : TtmSshCmdlet
    {
        /// <summary>The shell command to run, e.g. 'systemctl status nginx'.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Command { get; set; } = "";

        /// <summary>How long the command may run on each server.</summary>
        [Parameter]
        [ValidateTimeSpanRange("0:00:01", "7.00:00:00")]
        [TimeSpanArgument]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

        /// <summary>Do not ask again for servers of a protected farm (Production).</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void Begin()
        {
            base.Begin();
            RequireSeconds(Timeout, nameof(Timeout));
        }

        protected override void End()
        {
            // Confirm every server first: -WhatIf must not look for keys or ask for a passphrase,
            // and a refusal must leave every server untouched, not just the later ones.
            var approved = Servers.Where(server => ShouldRunOn(server, $"Run '{Command}'", Force)).ToList();
            var targets = Targets(Timeout, approved);
            foreach (var (server, outcome) in RunOnAll($"Running '{Command}'", targets, w => w.Shell.Run(Command, Timeout, w.Cancellation)))
            {
                if (outcome.Error != null)
                {
                    WriteTtmError(outcome.Error, server);
                    continue;
                }

                var result = outcome.Result!;
                WriteObject(result);
                if (!result.Succeeded)
                    WriteTtmError(new TtmException(TtmErrorCode.SshCommandFailed,
                        $"'{Command}' exited with {result.ExitCode} on {server.Name} of farm {server.Farm}: {LastLine(result)}", server.Name), server);
            }
        }

        private static string LastLine(SshCommandResult result)
        {
            var text = (string.IsNullOrWhiteSpace(result.StdErr) ? result.StdOut : result.StdErr).Trim();
            var lines = text.Split('\n');
            return text.Length == 0 ? "no output" : lines[lines.Length - 1].Trim();
        }
    }
}

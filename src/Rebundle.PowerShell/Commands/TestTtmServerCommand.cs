using Rebundle.PowerShell.Remote;
using Rebundle.Remote;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Runbook step 5's "verify that chef configured the role": runs checks on each server
    /// (Chef's last run succeeded, services active, packages installed, custom commands) and
    /// passes a server down the pipeline only when all its checks pass, so
    /// <c>Get-TtmServer | Test-TtmServer | New-TtmRoleSnapshot</c> never snapshots a broken
    /// server. Every check result goes to the Information stream (tag TtmCheck; see them with
    /// -InformationAction Continue or collect them with -InformationVariable); a server that
    /// fails gets a non-terminating TtmCheckFailed error naming its failed checks. With
    /// -AsCheckResult the results are the output instead of the servers. Command checks run
    /// the operator's own commands, so they are confirmed per server (-WhatIf, -Confirm, and
    /// -Force for a protected farm); a server whose command checks were not approved still
    /// gets the read-only checks but is not passed on.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "TtmServer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpPages.Root + "Test-TtmServer.md")]
    [OutputType(typeof(Rebundle.Domain.Server), typeof(ServerCheckResult))]
    public sealed class TestTtmServerCommand : TtmCheckCmdlet
    {
        // -Check (default: every kind; Chef always, the others for what is named), -Service,
        // -PackageName, -Command and -ChefCachePath come from TtmCheckCmdlet.

        /// <summary>A server from Get-TtmServer.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public Server? InputObject { get; set; }

        /// <summary>How long each check may run.</summary>
        [Parameter]
        [ValidateTimeSpanRange("0:00:01", "7.00:00:00")]
        [TimeSpanArgument]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(1);

        /// <summary>Output the check results instead of the servers that passed.</summary>
        [Parameter]
        public SwitchParameter AsCheckResult { get; set; }

        /// <summary>Do not ask again before running command checks on servers of a protected farm (Production).</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        private readonly PipedServers _piped = new PipedServers();
        private ServerVerifier _verifier = null!;

        private IReadOnlyList<Server> Servers => _piped.All;

        protected override void Begin()
        {
            base.Begin();
            RequireSeconds(Timeout, nameof(Timeout));
            _verifier = new ServerVerifier(PlannedChecks(), Timeout);
        }

        protected override void Process() => _piped.Add(InputObject);

        protected override void End()
        {
            // Only command checks run what the operator typed; the others only read. Ask for
            // every server before connecting to any, as Invoke-TtmSsh does.
            var commands = "Run check commands " + string.Join(", ", _verifier.Checks.Where(c => c.Kind == ServerCheckKind.Command).Select(c => $"'{c.Subject}'"));
            var approved = new HashSet<Server>(_verifier.RunsCommands ? Servers.Where(s => ShouldRunOn(s, commands, Force)) : Servers);

            // A server with nothing approved to run is not connected to (-WhatIf needs no key).
            foreach (var server in Servers.Where(s => !approved.Contains(s) && !_verifier.HasReadOnlyChecks))
                Report(server, _verifier.NotApprovedResults(server.Name, server.Farm));

            var targets = Targets(Timeout, Servers.Where(s => approved.Contains(s) || _verifier.HasReadOnlyChecks));
            var runCommands = targets.ToDictionary(t => t.Settings, t => approved.Contains(t.Server));
            foreach (var (server, outcome) in RunOnAll("Checking servers", targets, work => _verifier.Verify(work, runCommands[work.Target])))
            {
                if (outcome.Error != null) WriteTtmError(outcome.Error, server);
                else Report(server, outcome.Result!);
            }
        }

        /// <summary>Writes one server's check results, and the server itself when every check passed.</summary>
        private void Report(Server server, IReadOnlyList<ServerCheckResult> results)
        {
            foreach (var result in results)
            {
                WriteInformation(result, new[] { "TtmCheck" });
                if (AsCheckResult) WriteObject(result);
            }

            var failed = results.Where(r => !r.Passed).ToList();
            if (failed.Count == 0)
            {
                if (!AsCheckResult) WriteObject(server);
            }
            else if (failed.All(f => f.Detail == ServerVerifier.NotApproved))
            {
                // Not a failure of the server: the operator said no (or -WhatIf). It is held back all the same.
                WriteVerbose($"{server.Name} of farm {server.Farm} is not passed on: its command checks were not approved.");
            }
            else if (!AsCheckResult)
            {
                WriteTtmError(new TtmException(TtmErrorCode.CheckFailed,
                    $"{server.Name} of farm {server.Farm} failed {failed.Count} of {results.Count} checks, so it is not passed on: " +
                    string.Join("; ", failed.Select(f => $"{f.Check}: {f.Detail}")) +
                    ". Fix the server (or the check) and run Test-TtmServer on it again; -AsCheckResult lists every check.", server.Name), server);
            }
        }
    }
}

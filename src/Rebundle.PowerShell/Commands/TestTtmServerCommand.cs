using System;
using System.Linq;
using System.Management.Automation;
using Rebundle.Errors;
using Rebundle.PowerShell.Infrastructure;
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
    /// -AsCheckResult the results are the output instead of the servers.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "TtmServer")]
    [OutputType(typeof(Rebundle.Domain.Server), typeof(ServerCheckResult))]
    public sealed class TestTtmServerCommand : TtmSshCmdlet
    {
        /// <summary>Which kinds of check run (default: every kind; Chef always, the others for what is named).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public ServerCheckKind[]? Check { get; set; }

        /// <summary>systemd services that must be active.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? Service { get; set; }

        /// <summary>Debian packages that must be installed.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? PackageName { get; set; }

        /// <summary>Shell commands that must exit with 0.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? Command { get; set; }

        /// <summary>Chef's file cache (file_cache_path in client.rb).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string ChefCachePath { get; set; } = ServerCheck.DefaultChefCachePath;

        /// <summary>How long each check may run.</summary>
        [Parameter]
        [ValidateTimeSpanRange("0:00:01", "7.00:00:00")]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(1);

        /// <summary>Output the check results instead of the servers that passed.</summary>
        [Parameter]
        public SwitchParameter AsCheckResult { get; set; }

        private ServerVerifier _verifier = null!;

        protected override void Begin()
        {
            base.Begin();
            RequireSeconds(Timeout, nameof(Timeout));
            _verifier = new ServerVerifier(ServerCheck.Plan(Check, ChefCachePath, Service, PackageName, Command), Timeout);
        }

        protected override void End()
        {
            foreach (var (server, outcome) in RunOnAll("Checking servers", Targets(Timeout), _verifier.Verify))
            {
                if (outcome.Error != null)
                {
                    WriteTtmError(outcome.Error, server);
                    continue;
                }

                var results = outcome.Result!;
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
                else if (!AsCheckResult)
                {
                    WriteTtmError(new TtmException(TtmErrorCode.CheckFailed,
                        $"{server.Name} of farm {server.Farm} failed {failed.Count} of {results.Count} checks, so it is not passed on: " +
                        string.Join("; ", failed.Select(f => $"{f.Check}: {f.Detail}")), server.Name), server);
                }
            }
        }
    }
}

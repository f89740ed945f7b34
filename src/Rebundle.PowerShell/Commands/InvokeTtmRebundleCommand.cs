using System;
using System.IO;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Security;
using Rebundle.Errors;
using Rebundle.PowerShell.Infrastructure;
using Rebundle.PowerShell.Infrastructure.Files;
using Rebundle.PowerShell.Remote;
using Rebundle.Rebundling;
using Rebundle.Remote;
using Rebundle.Ssh;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Runs the whole runbook (steps 1 and 4–8) as one resumable, journalled run with a gate
    /// before production. Prints the plan first; -WhatIf prints only the plan.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "TtmRebundle", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NewSet)]
    [OutputType(typeof(RebundleResult))]
    public sealed class InvokeTtmRebundleCommand : TtmRemoteCmdlet
    {
        private const string NewSet = "New";
        private const string ResumeSet = "Resume";

        [Parameter(ParameterSetName = NewSet)]
        [ValidateNotNullOrEmpty]
        public string? StagingFarm { get; set; }

        [Parameter(ParameterSetName = NewSet)]
        [ValidateNotNullOrEmpty]
        public string? TestFarm { get; set; }

        [Parameter(ParameterSetName = NewSet)]
        [ValidateNotNullOrEmpty]
        public string? ProductionFarm { get; set; }

        /// <summary>Only these staging aliases (default: every one but the base role).</summary>
        [Parameter(ParameterSetName = NewSet)]
        [ValidateNotNullOrEmpty]
        public string[]? Role { get; set; }

        [Parameter(ParameterSetName = NewSet)]
        public SwitchParameter Major { get; set; }

        [Parameter(ParameterSetName = NewSet)]
        [ValidateNotNullOrEmpty]
        public string[]? Package { get; set; }

        [Parameter(ParameterSetName = NewSet)]
        public SwitchParameter SkipOsUpdate { get; set; }

        [Parameter(ParameterSetName = NewSet)]
        [ValidateRange(1, 1000)]
        public int BatchSize { get; set; } = 1;

        /// <summary>Where to write the journal; default ~/.rebundle/journals/rebundle-&lt;time&gt;.jsonl.</summary>
        [Parameter(ParameterSetName = NewSet)]
        [ValidateNotNullOrEmpty]
        public string? JournalPath { get; set; }

        /// <summary>Continue the rebundle recorded in this journal.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ResumeSet)]
        [ValidateNotNullOrEmpty]
        public string Resume { get; set; } = "";

        /// <summary>Go past the gate: promote to production and recycle it.</summary>
        [Parameter]
        public SwitchParameter ApproveProduction { get; set; }

        /// <summary>How long any one wait may take.</summary>
        [Parameter]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(30);

        #region Remote work: the OS update (step 1) and the checks (steps 5 and 6) go over SSH

        /// <summary>Checks run on the staging and test servers before snapshot and before the gate; none without it.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public ServerCheckKind[]? Check { get; set; }

        /// <summary>Services the Service check wants active.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? Service { get; set; }

        /// <summary>Packages the Package check wants installed.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? PackageName { get; set; }

        /// <summary>Commands the Command check wants to exit 0.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? Command { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string ChefCachePath { get; set; } = ServerCheck.DefaultChefCachePath;

        // The SSH parameters (-KeyFile, -User, -KnownHostsFile, ...) come from TtmRemoteCmdlet.

        #endregion

        protected override void End()
        {
            var names = Fleet.Names;
            var options = new RebundleOptions
            {
                StagingFarm = StagingFarm ?? names.StagingFarm,
                TestFarm = TestFarm ?? names.TestFarm,
                ProductionFarm = ProductionFarm ?? names.ProductionFarm,
                Roles = Role,
                Major = Major,
                Packages = Package ?? Array.Empty<string>(),
                SkipOsUpdate = SkipOsUpdate,
                Verify = Check != null,
                BatchSize = BatchSize,
                ApproveProduction = ApproveProduction,
            };

            var journalPath = ParameterSetName == ResumeSet
                ? GetUnresolvedProviderPathFromPSPath(Resume)
                : JournalPath != null ? GetUnresolvedProviderPathFromPSPath(JournalPath) : DefaultJournalPath();
            // Read the plan without creating the journal, so -WhatIf leaves no file behind.
            var journal = ParameterSetName == ResumeSet ? FileJournal.Open(journalPath, WriteWarning) : (IJournal)new DeferredJournal(journalPath);
            // Remote work as the journal's plan (when resuming) or this command asks for it. The
            // Sandbox's servers have made-up addresses: there it needs -Address (a real test server).
            var recorded = RebundleRunner.RecordedPlan(journal);
            var remoteWork = !(recorded?.SkipOsUpdate ?? SkipOsUpdate) || (recorded?.Verify ?? Check != null);
            var reachable = Fleet.BackendAs<Sandbox.SandboxBackend>() == null || Address != null;
            var runner = new RebundleRunner(Fleet, journal, Reporter, remoteWork && reachable ? Preparation() : null);
            var plan = runner.PlanOrResume(options);

            Host.UI.WriteLine(runner.IsResume ? $"Resuming the rebundle in {journalPath}:" : $"Rebundle plan (journal: {journalPath}):");
            foreach (var line in plan.Describe(runner.ServerCounts(plan))) Host.UI.WriteLine("  " + line);

            var target = $"farms {plan.StagingFarm}, {plan.TestFarm}" + (ApproveProduction ? $" and {plan.ProductionFarm}" : "");
            if (!ShouldChange(target, "Run the rebundle plan above", ApproveProduction ? new[] { plan.ProductionFarm } : Array.Empty<string>(), force: ApproveProduction)) return;

            var result = runner.Run(plan, options, Timeout, Cancellation);
            Host.UI.WriteLine(result.Message);
            WriteObject(result);
        }

        // Its own method, not inlined, so SSH.NET loads only when remote work is asked for.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private IServerPreparation Preparation()
        {
            var checks = ServerCheck.Plan(Check, ChefCachePath, Service, PackageName, Command);
            return new RemoteServerPreparation(
                new SshNetShellFactory(),
                new SshTargets(Options(TimeSpan.FromMinutes(5)), new KeyFileResolver(HomeDirectory, File.Exists), AskForPassphrase),
                new OsUpdateOptions { Reboot = true },
                new ServerVerifier(checks, TimeSpan.FromMinutes(1)),
                Fleet.Backend.Clock,
                Reporter,
                ThrottleLimit);
        }

        private static string DefaultJournalPath() => Path.Combine(
            Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".rebundle", "journals",
            $"rebundle-{DateTime.UtcNow:yyyyMMdd-HHmmss}.jsonl");

        /// <summary>A new journal that only creates its file with the first entry.</summary>
        private sealed class DeferredJournal : IJournal
        {
            private readonly string _path;
            private FileJournal? _file;

            public DeferredJournal(string path) => _path = path;

            public string Location => _path;

            public System.Collections.Generic.IReadOnlyList<JournalEntry> Entries => (System.Collections.Generic.IReadOnlyList<JournalEntry>?)_file?.Entries ?? Array.Empty<JournalEntry>();

            public void Append(JournalEntry entry) => (_file ??= FileJournal.Create(_path)).Append(entry);
        }
    }
}

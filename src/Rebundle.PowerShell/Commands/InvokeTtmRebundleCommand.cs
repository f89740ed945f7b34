using System.Runtime.CompilerServices;
using Rebundle.PowerShell.Infrastructure.Files;
using Rebundle.PowerShell.Remote;
using Rebundle.Rebundling;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Runs the whole runbook (steps 1 and 4–8) as one resumable, journalled run with a gate
    /// before production. Shows the plan first (information stream, tagged Rebundle.Plan);
    /// -WhatIf shows only the plan, -PassThru also writes it as an object.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "TtmRebundle", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpPages.Root + "Invoke-TtmRebundle.md")]
    [OutputType(typeof(RebundleResult), typeof(RebundlePlanReport))]
    public sealed class InvokeTtmRebundleCommand : TtmCheckCmdlet
    {
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? StagingFarm { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? TestFarm { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ProductionFarm { get; set; }

        /// <summary>Only these staging aliases (default: every one but the base role).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? Role { get; set; }

        [Parameter]
        public SwitchParameter Major { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? Package { get; set; }

        [Parameter]
        public SwitchParameter SkipOsUpdate { get; set; }

        [Parameter]
        [ValidateRange(1, 1000)]
        public int BatchSize { get; set; } = 1;

        /// <summary>Where to write the journal; default ~/.rebundle/journals/rebundle-&lt;time&gt;.jsonl.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? JournalPath { get; set; }

        /// <summary>
        /// Continue the rebundle recorded in this journal. The original run's parameters may be
        /// given again; each must match the journal's plan.
        /// </summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Resume { get; set; }

        /// <summary>Also write the plan as an object (a RebundlePlanReport); with -WhatIf, only the plan.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>Go past the gate: promote to production and recycle it.</summary>
        [Parameter]
        public SwitchParameter ApproveProduction { get; set; }

        /// <summary>How long any one wait may take.</summary>
        [Parameter]
        [ValidateTimeSpanRange("0:00:01", "7.00:00:00")]
        [TimeSpanArgument]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(30);

        // The remote work: the OS update (step 1) and the checks (steps 5 and 6) go over SSH.
        // -Check (none without it: no checks), -Service, -PackageName, -Command and -ChefCachePath
        // come from TtmCheckCmdlet; the SSH parameters (-KeyFile, -User, ...) from TtmRemoteCmdlet.

        // Production is approved by -ApproveProduction only, never by a prompt halfway through an
        // unattended run, whatever farm the operator named as staging or test.
        protected override IReadOnlyList<string> ApprovalSwitches { get; } = new[] { "ApproveProduction" };

        protected override bool ConfirmApproves => false;

        protected override bool MayAskForApproval => false;

        protected override string HowToApprove =>
            "Pass -ApproveProduction to approve changes to protected farms (after testing, with -Resume '<journal>' -ApproveProduction).";

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

            var resuming = Resume != null;
            var journalPath = resuming
                ? GetUnresolvedProviderPathFromPSPath(Resume!)
                : JournalPath != null ? GetUnresolvedProviderPathFromPSPath(JournalPath) : DeferredJournal.DefaultPath();
            // One run per journal: a second -Resume of it is refused (TtmFarmBusy) before it reads or repairs the file.
            using var journalLock = resuming || !IsDryRun ? Fleet.Leases.AcquireJournal(journalPath, $"Invoke-TtmRebundle {journalPath}") : null;
            var journal = DeferredJournal.OpenOrDefer(journalPath, resuming, WriteWarning);
            var recorded = RebundleRunner.RecordedPlan(journal);
            if (resuming && recorded != null) RequireSameRun(recorded, journalPath);
            var remoteWork = RemoteWorkRule.Applies(recorded, options, Fleet.Backend, addressGiven: Address != null);
            var runner = new RebundleRunner(Fleet, journal, Reporter, remoteWork ? Preparation() : null);
            var preview = runner.Preview(options);
            var plan = preview.Plan;
            var unreachable = runner.WhyUnreachable(plan);
            // -WhatIf shows the plan even where its remote work could not run (the Sandbox), with why.
            if (unreachable != null && !IsDryRun) throw unreachable;

            var report = RebundlePlanReport.For(plan, preview.ServerCounts, journalPath, runner.IsResume);
            Say(report.IsResume ? $"Resuming the rebundle in {journalPath}:" : $"Rebundle plan (journal: {journalPath}):", PlanTag);
            foreach (var line in report.Steps) Say("  " + line, PlanTag);
            if (unreachable != null) Say("  To run it: " + unreachable.Message, PlanTag);
            if (PassThru) WriteObject(report);
            if (!RequirePermissions(preview.MissingPermissions)) return;

            var target = $"farms {plan.StagingFarm}, {plan.TestFarm}" + (ApproveProduction ? $" and {plan.ProductionFarm}" : "");
            if (!ShouldChange(target, "Run the rebundle plan above", ApproveProduction ? new[] { plan.ProductionFarm } : Array.Empty<string>(), force: ApproveProduction)) return;

            // The run's farms are leased for as long as it runs, so no recycle (or other rebundle) changes them meanwhile.
            LeaseFarms(new[] { plan.StagingFarm, plan.TestFarm, plan.ProductionFarm }, breakExpired: false);
            var result = runner.Run(plan, options, Timeout, Cancellation);
            Say(result.Message, StatusTag);
            WriteObject(result);
        }

        /// <summary>
        /// Before anything changes, the permissions the plan needs (a backend that can check them,
        /// e.g. EC2 with DryRun): all missing ones in one error, terminating the run; with -WhatIf
        /// one non-terminating error, after the plan. False when the run must not go on.
        /// </summary>
        private bool RequirePermissions(IReadOnlyList<Backends.MissingPermission> missing)
        {
            if (missing.Count == 0) return true;
            var denied = RebundlePreflight.Denied("Invoke-TtmRebundle", missing);
            if (!IsDryRun) throw denied;
            WriteTtmError(denied);
            return false;
        }

        // Tags of the information records; PSHOST makes the host show them as Write-Host would,
        // while 6>$null silences and 6>&1 captures them.
        private const string PlanTag = "Rebundle.Plan", StatusTag = "Rebundle.Status";

        private void Say(string text, string tag) =>
            WriteInformation(new HostInformationMessage { Message = text }, new[] { "PSHOST", tag });

        /// <summary>With -Resume, the parameters typed again must be the journal's (the run is not re-planned).</summary>
        private void RequireSameRun(RebundlePlan recorded, string journalPath)
        {
            if (JournalPath != null && !string.Equals(GetUnresolvedProviderPathFromPSPath(JournalPath), journalPath, StringComparison.Ordinal))
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    $"-JournalPath {JournalPath} is not the journal being resumed ({journalPath}); leave -JournalPath out when resuming.", JournalPath);
            bool Given(string name) => MyInvocation.BoundParameters.ContainsKey(name);
            ResumeCheck.Require(recorded, new RebundleRestatement
            {
                StagingFarm = StagingFarm,
                TestFarm = TestFarm,
                ProductionFarm = ProductionFarm,
                Roles = Role,
                Major = Given(nameof(Major)) ? Major.IsPresent : (bool?)null,
                Packages = Package,
                SkipOsUpdate = Given(nameof(SkipOsUpdate)) ? SkipOsUpdate.IsPresent : (bool?)null,
                Verify = Check != null ? true : (bool?)null,
                BatchSize = Given(nameof(BatchSize)) ? BatchSize : (int?)null,
            }, journalPath);
        }

        // Its own method, not inlined, so SSH.NET loads only when remote work is asked for.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private IServerPreparation Preparation() =>
            SshWork().RebundlePreparation(Options(TimeSpan.FromMinutes(5)), PlannedChecks(), Fleet.Backend.Clock);
    }
}

using Rebundle.Safety;

namespace Rebundle.PowerShell.Infrastructure
{
    /// <summary>
    /// What every Rebundle cmdlet shares: the connected fleet, turning core failures into
    /// error records with stable ids, progress and verbose output, Ctrl+C, and the approval
    /// it gives the core's change guard, the scope its changes hold their farm leases in, and
    /// the one answer to "is this a dry run?" (<see cref="IsDryRun"/>). Derived cmdlets override
    /// <see cref="Begin"/>, <see cref="Process"/> and <see cref="End"/>.
    /// </summary>
    public abstract class TtmCmdlet : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource _stopping = new CancellationTokenSource();
        private IRunbookReporter? _reporter;
        private CmdletApprover? _approver;
        private bool _stopWhenRefused;
        private CommandLeases? _leases;

        /// <summary>Cancelled when the operator presses Ctrl+C.</summary>
        protected CancellationToken Cancellation => _stopping.Token;

        protected IRunbookReporter Reporter => _reporter ??= new CmdletReporter(this);

        /// <summary>False only for Connect-TtmFleet, which makes the connection.</summary>
        protected virtual bool NeedsConnection => true;

        /// <summary>The connected fleet; set before <see cref="Begin"/> runs.</summary>
        protected Fleet Fleet { get; private set; } = null!;

        /// <summary>The switches that approve changes to protected farms (default -Force; -Confirm:$false too, see <see cref="ConfirmApproves"/>).</summary>
        protected virtual IReadOnlyList<string> ApprovalSwitches { get; } = new[] { "Force" };

        /// <summary>Whether an explicit -Confirm (or -Confirm:$false) also approves protected farms.</summary>
        protected virtual bool ConfirmApproves => true;

        /// <summary>Whether the operator may be asked at a prompt; when false only the switches approve.</summary>
        protected virtual bool MayAskForApproval => true;

        /// <summary>Said in a refusal: how to approve.</summary>
        protected virtual string HowToApprove =>
            "Pass -Force (or -Confirm:$false) to approve it in a script, or run the command in an interactive session to be asked.";

        private CmdletApprover Approver => _approver ??= new CmdletApprover(this);

        /// <summary>
        /// Whether this run only shows what it would do, decided once and by value: -WhatIf:$false
        /// is a real run (scripts pass switches through as -WhatIf:$WhatIf), and with no -WhatIf
        /// the caller's $WhatIfPreference decides, as it does for ShouldProcess. Every choice
        /// between planning and changing (leases, journal locks, preflight) asks this.
        /// </summary>
        protected bool IsDryRun => MyInvocation.BoundParameters.TryGetValue("WhatIf", out var whatIf)
            ? LanguagePrimitives.IsTrue(whatIf)
            : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

        /// <summary>The farm leases this command holds: taken by its changes (or <see cref="LeaseFarms"/>), given back when it ends.</summary>
        private CommandLeases Leases => _leases ??= Fleet.ChangeLeases.Open(MyInvocation.MyCommand.Name);

        /// <summary>
        /// Leases <paramref name="farms"/> now, for the rest of the command, rather than at its
        /// first change: for runs that must judge the fleet with nobody else changing it (a
        /// recycle's surplus). A dry run takes nothing. TtmFarmBusy when another run holds one.
        /// </summary>
        /// <param name="breakExpired">-Force: take over a lease whose holder let it expire.</param>
        protected void LeaseFarms(IReadOnlyCollection<string> farms, bool breakExpired)
        {
            if (farms.Count == 0 || IsDryRun) return;
            Leases.Hold(farms, breakExpired);
        }

        protected virtual void Begin() { }

        protected virtual void Process() { }

        protected virtual void End() { }

        protected sealed override void BeginProcessing()
        {
            if (NeedsConnection) Fleet = FleetSession.Current?.Fleet!;
            Guarded(() =>
            {
                if (NeedsConnection && Fleet == null)
                    throw new TtmException(TtmErrorCode.NotConnected,
                        "This session is not connected to a fleet. Run Connect-TtmFleet first, for example 'Connect-TtmFleet -Sandbox' to rehearse on the embedded Sandbox.");
                Begin();
            });
        }

        protected sealed override void ProcessRecord() => Guarded(Process);

        protected sealed override void EndProcessing()
        {
            try
            {
                Guarded(End);
            }
            finally
            {
                ReleaseLeases();
            }
        }

        // PowerShell disposes the command when its pipeline ends, also when it failed or was
        // stopped before EndProcessing: the leases go back then.
        void IDisposable.Dispose()
        {
            ReleaseLeases();
        }

        private void ReleaseLeases()
        {
            _leases?.Dispose();
            _leases = null;
        }

        protected override void StopProcessing() => _stopping.Cancel();

        /// <summary>Reports one failed item and carries on with the rest (non-terminating).</summary>
        protected void WriteTtmError(TtmException e, object? target = null) => WriteError(ErrorMapper.ToRecord(e, target));

        /// <summary>Reports the names a read did not find, and writes what it did find.</summary>
        protected void WriteResult<T>(QueryResult<T> result)
        {
            foreach (var miss in result.Misses) WriteTtmError(miss);
            foreach (var item in result.Items) WriteObject(item);
        }

        /// <summary>Whether the operator approved protected farms with a switch (-Force, -ApproveProduction, -Confirm:$false).</summary>
        protected bool ApprovedBySwitch =>
            ApprovalSwitches.Any(s => MyInvocation.BoundParameters.TryGetValue(s, out var v) && v is SwitchParameter on && on.IsPresent) ||
            (ConfirmApproves && MyInvocation.BoundParameters.ContainsKey("Confirm"));

        /// <summary>
        /// Asks before a change: -WhatIf and -Confirm work as usual, and a change to a protected
        /// farm among <paramref name="farmsTouched"/> is approved now, before any of it is made.
        /// The core's guard enforces approval on every change anyway; asking here only makes the
        /// question come first. A change that could not be approved is a TtmApprovalRequired
        /// error for this item; one the operator said No to is skipped.
        /// </summary>
        protected bool ShouldChange(string target, string action, IEnumerable<string> farmsTouched, bool force) =>
            ShouldChange(target, action, farmsTouched, force, alwaysAsk: false);

        /// <param name="alwaysAsk">Ask even outside protected farms: for changes that cannot be taken back (deletions).</param>
        protected bool ShouldChange(string target, string action, IEnumerable<string> farmsTouched, bool force, bool alwaysAsk) =>
            ShouldChange(target, action, farmsTouched, force, alwaysAsk, stopWhenRefused: false);

        /// <param name="stopWhenRefused">
        /// A change that could not be approved stops the command (a terminating TtmApprovalRequired)
        /// instead of skipping the item: for commands that confirm every item before doing any.
        /// </param>
        protected bool ShouldChange(string target, string action, IEnumerable<string> farmsTouched, bool force, bool alwaysAsk, bool stopWhenRefused)
        {
            _stopWhenRefused = stopWhenRefused;
            if (!ShouldProcess(target, action)) return false;
            var approved = force || ApprovedBySwitch;
            if (alwaysAsk && !approved)
                return Approver.Ask($"{action}? This cannot be undone. (Use -Force or -Confirm:$false in scripts.)", "Confirm deletion") ?? Refuse(target, action, Array.Empty<string>());
            var protectedFarms = Fleet.Guard.ProtectedAmong(farmsTouched);
            if (protectedFarms.Count == 0 || approved) return true;
            var answer = Approver.AskFor(protectedFarms, $"{action} on {target}");
            return answer ?? Refuse(target, action, protectedFarms);
        }

        private bool Refuse(string target, string action, IReadOnlyList<string> protectedFarms)
        {
            var refusal = new TtmException(TtmErrorCode.ApprovalRequired,
                $"{action} on {target}" + (protectedFarms.Count > 0 ? $" touches protected farm {string.Join(", ", protectedFarms)}" : " cannot be undone") +
                $", and this session cannot ask for approval, so it was not done. {HowToApprove}", protectedFarms.FirstOrDefault() ?? target);
            if (_stopWhenRefused) throw refusal;
            WriteTtmError(refusal);
            return false;
        }

        private void Guarded(Action step)
        {
            try
            {
                using (Fleet?.Guard.Use(Approver))
                using (Fleet?.ChangeLeases.Use(Leases))
                    step();
            }
            catch (TtmException e)
            {
                ThrowTerminatingError(ErrorMapper.ToRecord(e));
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
        }

        /// <summary>
        /// The approval this cmdlet gives the core's guard: the approval switches, else one
        /// question per protected farm per run (remembered), asked on the pipeline thread only.
        /// In a session that cannot ask (-NonInteractive, a hosted runspace without a UI) the
        /// answer is no, and the guard refuses with TtmApprovalRequired.
        /// </summary>
        private sealed class CmdletApprover : IChangeApprover
        {
            private readonly TtmCmdlet _cmdlet;
            private readonly int _pipelineThread = Thread.CurrentThread.ManagedThreadId;
            private readonly HashSet<string> _approvedFarms = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

            public CmdletApprover(TtmCmdlet cmdlet) => _cmdlet = cmdlet;

            public string HowToApprove => _cmdlet.HowToApprove;

            public bool Approve(ChangeIntent intent, IReadOnlyList<string> protectedFarms) =>
                _cmdlet.ApprovedBySwitch || AskFor(protectedFarms, intent.Description) == true;

            /// <summary>True approved, false the operator said no, null nobody could be asked.</summary>
            public bool? AskFor(IReadOnlyList<string> protectedFarms, string what)
            {
                var unasked = protectedFarms.Where(f => !_approvedFarms.Contains(f)).ToList();
                if (unasked.Count == 0) return true;
                var farms = string.Join(", ", unasked);
                var answer = Ask($"{what} changes protected farm {farms}. Continue? (Use -Force or -Confirm:$false in scripts.)", $"Confirm change to {farms}");
                if (answer == true) _approvedFarms.UnionWith(unasked);
                return answer;
            }

            public bool? Ask(string query, string caption)
            {
                if (!_cmdlet.MayAskForApproval || Thread.CurrentThread.ManagedThreadId != _pipelineThread) return null;
                try
                {
                    return _cmdlet.ShouldContinue(query, caption);
                }
                catch (Exception e) when (!(e is PipelineStoppedException))
                {
                    return null; // -NonInteractive, or a host without a UI: nobody to ask
                }
            }
        }
    }
}

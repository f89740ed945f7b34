using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using Rebundle.Errors;
using Rebundle.Runbook;

namespace Rebundle.PowerShell.Infrastructure
{
    /// <summary>
    /// What every Rebundle cmdlet shares: the connected fleet, turning core failures into
    /// error records with stable ids, progress and verbose output, and Ctrl+C. Derived
    /// cmdlets override <see cref="Begin"/>, <see cref="Process"/> and <see cref="End"/>.
    /// </summary>
    public abstract class TtmCmdlet : PSCmdlet
    {
        private readonly CancellationTokenSource _stopping = new CancellationTokenSource();
        private IRunbookReporter? _reporter;

        /// <summary>Cancelled when the operator presses Ctrl+C.</summary>
        protected CancellationToken Cancellation => _stopping.Token;

        protected IRunbookReporter Reporter => _reporter ??= new CmdletReporter(this);

        /// <summary>False only for Connect-TtmFleet, which makes the connection.</summary>
        protected virtual bool NeedsConnection => true;

        /// <summary>The connected fleet; set before <see cref="Begin"/> runs.</summary>
        protected Fleet Fleet { get; private set; } = null!;

        protected virtual void Begin() { }

        protected virtual void Process() { }

        protected virtual void End() { }

        protected sealed override void BeginProcessing() => Guarded(() =>
        {
            if (NeedsConnection)
            {
                Fleet = FleetSession.Current?.Fleet ?? throw new TtmException(TtmErrorCode.NotConnected,
                    "This session is not connected to a fleet. Run Connect-TtmFleet first, for example 'Connect-TtmFleet -Sandbox' to rehearse on the embedded Sandbox.");
            }
            Begin();
        });

        protected sealed override void ProcessRecord() => Guarded(Process);

        protected sealed override void EndProcessing() => Guarded(End);

        protected override void StopProcessing() => _stopping.Cancel();

        /// <summary>Reports one failed item and carries on with the rest (non-terminating).</summary>
        protected void WriteTtmError(TtmException e, object? target = null) => WriteError(ErrorMapper.ToRecord(e, target));

        /// <summary>Reports the names a read did not find, and writes what it did find.</summary>
        protected void WriteResult<T>(QueryResult<T> result)
        {
            foreach (var miss in result.Misses) WriteTtmError(miss);
            foreach (var item in result.Items) WriteObject(item);
        }

        /// <summary>
        /// Asks before a change. -WhatIf and -Confirm work as usual; a change that touches a
        /// protected farm (Production) also asks unless -Force or -Confirm:$false was given,
        /// as a ConfirmImpact High change would.
        /// </summary>
        protected bool ShouldChange(string target, string action, IEnumerable<string> farmsTouched, bool force) =>
            ShouldChange(target, action, farmsTouched, force, alwaysAsk: false);

        /// <param name="alwaysAsk">Ask even outside protected farms: for changes that cannot be taken back (deletions).</param>
        protected bool ShouldChange(string target, string action, IEnumerable<string> farmsTouched, bool force, bool alwaysAsk)
        {
            if (!ShouldProcess(target, action)) return false;
            if (force || MyInvocation.BoundParameters.ContainsKey("Confirm")) return true;
            if (alwaysAsk) return ShouldContinue($"{action}? This cannot be undone. (Use -Force or -Confirm:$false in scripts.)", "Confirm deletion");
            var protectedFarms = farmsTouched.Where(Fleet.Names.IsProtectedFarm).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            if (protectedFarms.Count == 0) return true;
            return ShouldContinue(
                $"{action} on {target} changes protected farm {string.Join(", ", protectedFarms)}. Continue? (Use -Force or -Confirm:$false in scripts.)",
                $"Confirm change to {string.Join(", ", protectedFarms)}");
        }

        private void Guarded(Action step)
        {
            try
            {
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
    }
}

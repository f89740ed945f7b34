using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Rebundle.Errors;
using Rebundle.PowerShell.Infrastructure;
using Rebundle.Runbook;

namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Replaces servers in rolling batches (runbook steps 4, 6 and 8): each replacement is
    /// launched and running before its old server is terminated; at most -BatchSize servers
    /// are replaced at once; the first failure or timeout stops the recycle.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "TtmRecycle", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(RecycledServer))]
    public sealed class InvokeTtmRecycleCommand : TtmCmdlet
    {
        private readonly List<string> _farms = new List<string>();

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Farm { get; set; } = Array.Empty<string>();

        /// <summary>Only these farm-role aliases (default: every farm role of the farm).</summary>
        [Parameter(Position = 1)]
        [Alias("Alias")]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Role { get; set; }

        [Parameter]
        [ValidateRange(1, 1000)]
        public int BatchSize { get; set; } = 1;

        /// <summary>How long each batch may take to run its replacements.</summary>
        [Parameter]
        [ValidateTimeSpanRange("0:00:01", "7.00:00:00")]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(15);

        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void Begin()
        {
            if (Timeout <= TimeSpan.Zero)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"-Timeout must be positive; got {Timeout}.");
        }

        protected override void Process() => _farms.AddRange(Farm);

        protected override void End()
        {
            var service = new RecycleService(Fleet, Reporter);
            var plans = service.Plan(_farms.Distinct(StringComparer.OrdinalIgnoreCase).ToList(), Role, BatchSize);
            foreach (var miss in plans.Misses) WriteTtmError(miss);
            foreach (var plan in plans.Items)
            {
                if (!ShouldChange("farm " + plan.Farm, plan.Description, new[] { plan.Farm }, Force)) continue;
                try
                {
                    foreach (var recycled in service.Execute(plan, Timeout, Cancellation)) WriteObject(recycled);
                }
                catch (RecycleStoppedException stopped)
                {
                    foreach (var recycled in stopped.Completed) WriteObject(recycled);
                    throw;
                }
            }
        }
    }
}

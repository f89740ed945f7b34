namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Replaces servers in rolling batches (runbook steps 4, 6 and 8): each replacement is
    /// launched and running before its old server is terminated; at most -BatchSize servers
    /// are replaced at once; the first failure or timeout stops the recycle. Exactly what was
    /// asked for is recycled: piped servers, piped farm roles (or objects with Farm and Alias),
    /// or whole farms, in the order given.
    /// </summary>
    // The default set is Server: PowerShell tries the default set first for piped input, and a Server
    // has Farm and Alias properties, so with Farm as default one piped server recycled its whole farm role.
    [Cmdlet(VerbsLifecycle.Invoke, "TtmRecycle", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ServerSet, HelpUri = HelpPages.Root + "Invoke-TtmRecycle.md")]
    [OutputType(typeof(RecycledServer))]
    public sealed class InvokeTtmRecycleCommand : TtmCmdlet
    {
        private const string FarmSet = "Farm";
        private const string ServerSet = "Server";
        private const string FarmRoleSet = "FarmRole";

        // Filled in Process, planned in End: the plan needs the whole pipeline, in its order.
        private readonly RecycleScope _scope = new RecycleScope();

        /// <summary>Farm names typed or piped as strings, or the Farm property of a piped object (with its Alias).</summary>
        [Parameter(ParameterSetName = FarmSet, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Farm { get; set; } = Array.Empty<string>();

        /// <summary>
        /// Only these farm-role aliases (default: every farm role of the farm). Named Alias so that
        /// a piped object's Alias property binds before its Role property (a role name, not an alias).
        /// </summary>
        [Parameter(ParameterSetName = FarmSet, Position = 1, ValueFromPipelineByPropertyName = true)]
        [Alias("Role")]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Alias { get; set; }

        /// <summary>Exactly these servers (Get-TtmServer output).</summary>
        [Parameter(ParameterSetName = ServerSet, Mandatory = true, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        public Server[] Server { get; set; } = Array.Empty<Server>();

        /// <summary>Exactly these farm roles (Get-TtmFarmRole output).</summary>
        [Parameter(ParameterSetName = FarmRoleSet, Mandatory = true, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        public FarmRole[] FarmRole { get; set; } = Array.Empty<FarmRole>();

        [Parameter]
        [ValidateRange(1, 1000)]
        public int BatchSize { get; set; } = 1;

        /// <summary>How long each replacement may take to run, from its launch.</summary>
        [Parameter]
        [ValidateTimeSpanRange("0:00:01", "7.00:00:00")]
        [TimeSpanArgument]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(15);

        /// <summary>How long a replacement behind a load balancer may be unhealthy after it registered before it fails the recycle.</summary>
        [Parameter]
        [ValidateTimeSpanRange("0:00:00", "1.00:00:00")]
        [TimeSpanArgument]
        public TimeSpan HealthGrace { get; set; } = TimeSpan.FromMinutes(1);

        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Recycle the farms at the same time, each with its own window, instead of one after another in the order typed.</summary>
        [Parameter]
        public SwitchParameter SideBySide { get; set; }

        /// <summary>The old lockstep batches (each waits for its slowest), kept to measure against (build.ps1 bench).</summary>
        [Parameter(DontShow = true)]
        public SwitchParameter Lockstep { get; set; }

        protected override void Process()
        {
            switch (ParameterSetName)
            {
                case ServerSet:
                    foreach (var server in Server) _scope.AddServer(server);
                    break;
                case FarmRoleSet:
                    foreach (var farmRole in FarmRole) _scope.AddFarmRole(farmRole.Farm, farmRole.Alias);
                    break;
                default:
                    _scope.AddFarms(Farm, Alias);
                    break;
            }
        }

        protected override void End()
        {
            // The farms are leased until the recycle ends (the process's end included): a second
            // recycle of them is refused with TtmFarmBusy instead of doubling every replacement.
            // Their servers are read once the lease is held, so surplus is judged with nobody else launching.
            var service = new RecycleService(Fleet, Reporter);
            var plans = service.PlanUnderLease(_scope, BatchSize, farms => LeaseFarms(farms, breakExpired: Force), Cancellation);
            foreach (var miss in plans.Misses) WriteTtmError(miss);
            var options = new RecycleOptions { Timeout = Timeout, HealthGrace = HealthGrace, SideBySide = SideBySide, Lockstep = Lockstep };
            if (SideBySide)
            {
                // Every farm is approved before any starts: they run together.
                var approved = plans.Items.Where(Approve).ToList();
                Execute(service, approved, options);
                return;
            }
            foreach (var plan in plans.Items)
                if (Approve(plan)) Execute(service, new[] { plan }, options);
        }

        private bool Approve(RecyclePlan plan)
        {
            WriteVerbose(plan.FullDescription);
            return ShouldChange("farm " + plan.Farm, plan.Description, new[] { plan.Farm }, Force);
        }

        // Each replaced server is written as soon as it runs, whichever farm it is in.
        private void Execute(RecycleService service, System.Collections.Generic.IReadOnlyList<RecyclePlan> plans, RecycleOptions options)
        {
            if (plans.Count == 0) return;
            service.Execute(plans, options, Cancellation, WriteObject);
        }
    }
}

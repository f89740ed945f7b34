namespace Rebundle.PowerShell.Commands
{
    /// <summary>
    /// Snapshots configured servers into versioned roles (runbook step 5), or with
    /// -ReplaceImage into their own role's image (step 1). Servers piped in are collected,
    /// their images made together and waited for together, then the roles are created.
    /// </summary>
    [Cmdlet(VerbsCommon.New, "TtmRoleSnapshot", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ServerSet, HelpUri = HelpPages.Root + "New-TtmRoleSnapshot.md")]
    [OutputType(typeof(Role))]
    public sealed class NewTtmRoleSnapshotCommand : TtmCmdlet
    {
        private const string ServerSet = "Server";
        private const string NameSet = "ByName";
        private readonly List<Server> _servers = new List<Server>();
        private RoleVersion? _version;

        /// <summary>A server from Get-TtmServer.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ServerSet)]
        public Server? InputObject { get; set; }

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet)]
        [ValidateNotNullOrEmpty]
        public string Farm { get; set; } = "";

        /// <summary>The farm role's alias (the role to snapshot as), e.g. RailsAppServer.</summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = NameSet)]
        [Alias("Alias")]
        [ValidateNotNullOrEmpty]
        public string Role { get; set; } = "";

        /// <summary>Bump the major version (3-0 after 2-5), as for an OS change.</summary>
        [Parameter]
        public SwitchParameter Major { get; set; }

        /// <summary>Use this version (X-Y) instead of the next one.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Version { get; set; }

        /// <summary>Replace the image of the server's own role instead of creating a versioned role.</summary>
        [Parameter]
        public SwitchParameter ReplaceImage { get; set; }

        /// <summary>Return once the image is started; the new role points at the pending image.</summary>
        [Parameter]
        public SwitchParameter NoWait { get; set; }

        [Parameter]
        [ValidateTimeSpanRange("0:00:01", "7.00:00:00")]
        [TimeSpanArgument]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(30);

        /// <summary>Image the server without rebooting it (EC2 NoReboot; file systems are not quiesced).</summary>
        [Parameter]
        public SwitchParameter NoReboot { get; set; }

        /// <summary>Approve snapshots of a protected farm's servers, and image replacements of roles a protected farm runs.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void Begin()
        {
            if (Version != null) _version = RoleVersion.Parse(Version);
            if (Version != null && (Major || ReplaceImage))
                throw new TtmException(TtmErrorCode.InvalidArgument, "-Version names the version itself; leave out -Major and -ReplaceImage when you give it.");
        }

        protected override void Process()
        {
            if (ParameterSetName == ServerSet)
            {
                if (InputObject != null) _servers.Add(InputObject);
                return;
            }

            var running = Fleet.GetServers(new[] { Farm }, new[] { Role }, new[] { ServerStatus.Running });
            foreach (var miss in running.Misses) throw miss;
            var server = running.Items.FirstOrDefault() ?? throw new TtmException(TtmErrorCode.ServerNotRunning,
                $"Farm role {Role} of farm {Farm} has no running server to snapshot. Recycle it (Invoke-TtmRecycle -Farm {Farm} -Role {Role}) and try again.", Role);
            _servers.Add(server);
        }

        protected override void End()
        {
            if (_servers.Count == 0)
            {
                WriteTtmError(new TtmException(TtmErrorCode.EmptyInput,
                    "No server came down the pipeline, so nothing was snapshotted. Check the filter in front of New-TtmRoleSnapshot, e.g. Get-TtmServer -Farm Rebundle-Staging."));
                return;
            }

            var service = new SnapshotService(Fleet, Reporter);
            var requests = _servers.Select(s => new SnapshotRequest { Server = s, Major = Major, Version = _version, ReplaceImage = ReplaceImage, NoReboot = NoReboot }).ToList();
            var approved = new List<SnapshotPlan>();
            foreach (var (plan, error) in service.Plan(requests, Cancellation))
            {
                if (error != null) WriteTtmError(error);
                // A snapshot touches the server's farm (on AWS the server reboots), and a replaced image every farm running the role.
                else if (ShouldChange(plan!.Server.ToString(), plan.Description + Reboots(plan), plan.TouchedFarms, Force))
                    approved.Add(plan);
            }
            if (approved.Count == 0) return;

            foreach (var outcome in service.Execute(approved, wait: !NoWait, Timeout, Cancellation))
            {
                if (outcome.Error != null) WriteTtmError(outcome.Error);
                else WriteObject(outcome.Role);
            }
        }

        private string Reboots(SnapshotPlan plan) =>
            Fleet.Backend.SnapshotReboots && !plan.NoReboot ? " (the server reboots; -NoReboot avoids it)" : "";
    }
}

using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Runbook
{
    /// <summary>What the operator asked for one server (runbook steps 1 and 5).</summary>
    public sealed record SnapshotRequest
    {
        public Server Server { get; init; } = new Server();

        /// <summary>Bump the major version (OS change) instead of the minor.</summary>
        public bool Major { get; init; }

        /// <summary>Force this version instead of the next one.</summary>
        public RoleVersion? Version { get; init; }

        /// <summary>Runbook step 1: replace the image of the server's own role instead of making a new role.</summary>
        public bool ReplaceImage { get; init; }

        /// <summary>Name the image this (a resumed rebundle keeps the name it planned); default: from the role and time.</summary>
        public string? ImageName { get; init; }

        /// <summary>Do not reboot the server for the image (EC2 NoReboot).</summary>
        public bool NoReboot { get; init; }
    }

    /// <summary>One validated snapshot, ready for confirmation.</summary>
    public sealed record SnapshotPlan
    {
        public Server Server { get; init; } = new Server();

        /// <summary>The role whose launch settings the new role copies (the server's role).</summary>
        public Role SourceRole { get; init; } = new Role();

        /// <summary>The role that will be created (e.g. <c>RailsAppServer-1-7</c>), or whose image is replaced.</summary>
        public string TargetRole { get; init; } = "";

        public bool ReplaceImage { get; init; }

        public string ImageName { get; init; } = "";

        /// <summary>An image already started for this snapshot (when resuming); no new image is made.</summary>
        public string? ExistingImageId { get; init; }

        public bool NoReboot { get; init; }

        /// <summary>The rebundle run making this role (kept with the role); null for a single snapshot.</summary>
        public string? RunId { get; init; }

        /// <summary>
        /// The farms the snapshot changes, for approval: the server's (on AWS it reboots) and, when
        /// it replaces a role's image, every farm whose farm roles run that role.
        /// </summary>
        public IReadOnlyList<string> TouchedFarms { get; init; } = Array.Empty<string>();

        public string Description => ReplaceImage
            ? $"Snapshot server {Server.Name} ({Server.Id}) of farm {Server.Farm} and replace the image of role {TargetRole}"
            : $"Snapshot server {Server.Name} ({Server.Id}) of farm {Server.Farm} as new role {TargetRole}";
    }

    /// <summary>How one snapshot ended: the role made (or updated), or the error.</summary>
    public sealed record SnapshotOutcome(SnapshotPlan Plan, Role? Role, Image? Image, TtmException? Error);

    /// <summary>
    /// Snapshots servers into versioned roles. Images of several servers are made together
    /// and waited for in one loop; a role is only created once its image is available, so a
    /// failed image never leaves a half-made role.
    /// </summary>
    public sealed class SnapshotService
    {
        public const int ProgressId = 41;
        private readonly Fleet _fleet;
        private readonly IRunbookReporter _reporter;

        public SnapshotService(Fleet fleet, IRunbookReporter reporter)
        {
            _fleet = fleet;
            _reporter = reporter;
        }

        /// <summary>Validates every request; returns a plan or an error for each, in order.</summary>
        public IReadOnlyList<(SnapshotPlan? Plan, TtmException? Error)> Plan(IReadOnlyList<SnapshotRequest> requests, CancellationToken cancellation = default)
        {
            var catalog = _fleet.Roles(cancellation);
            // A replaced image changes every farm running the role: the farm roles are read once for all of them.
            var farmRoles = requests.Any(r => r.ReplaceImage) ? _fleet.Backend.GetFarmRoles(null, cancellation) : Array.Empty<FarmRole>();
            var claimed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var results = new List<(SnapshotPlan?, TtmException?)>();
            // Piped server objects may be stale: read their status now, in one call.
            var current = _fleet.Backend.GetServers(new ServerQuery { Ids = requests.Select(r => r.Server.Id).ToList(), IncludeTerminated = true }, cancellation)
                .ToDictionary(s => s.Id, StringComparer.Ordinal);
            foreach (var request in requests)
            {
                try
                {
                    if (!current.TryGetValue(request.Server.Id, out var server))
                        throw new TtmException(TtmErrorCode.ServerNotFound,
                            $"Server {request.Server.Name} ({request.Server.Id}) of farm {request.Server.Farm} no longer exists. Get it again with Get-TtmServer.", request.Server.Name);
                    var plan = PlanOne(request with { Server = server }, catalog, claimed);
                    plan = plan with { TouchedFarms = TouchedFarms(plan, farmRoles) };
                    claimed.Add(plan.TargetRole);
                    results.Add((plan, null));
                }
                catch (TtmException e)
                {
                    results.Add((null, e));
                }
            }
            return results;
        }

        private SnapshotPlan PlanOne(SnapshotRequest request, RoleCatalog catalog, HashSet<string> claimed)
        {
            var server = request.Server;
            if (server.Status != ServerStatus.Running)
                throw new TtmException(TtmErrorCode.ServerNotRunning,
                    $"Server {server.Name} of farm {server.Farm} is {server.Status}, not Running; only a running, configured server can be snapshotted. Wait for it (Get-TtmServer -Status Running) or recycle it.",
                    server.Name);
            var sourceRole = catalog.Require(server.Role);
            var stamp = _fleet.Backend.Clock.UtcNow.ToString("yyyyMMdd-HHmmss");

            if (request.ReplaceImage)
            {
                if (claimed.Contains(sourceRole.Name))
                    throw Duplicate(server, sourceRole.Name);
                return new SnapshotPlan { Server = server, SourceRole = sourceRole, TargetRole = sourceRole.Name, ReplaceImage = true, ImageName = request.ImageName ?? $"{sourceRole.Name}-{stamp}", NoReboot = request.NoReboot };
            }

            // The new role is named after the farm role's alias (RailsAppServer), not the role
            // the staging server runs (TTM-Base).
            var baseName = RoleName.Parse(server.Alias).BaseName;
            var version = request.Version ?? catalog.NextVersion(baseName, request.Major);
            var target = new RoleName(baseName, version).FullName;
            if (catalog.Contains(target))
                throw new TtmException(TtmErrorCode.RoleAlreadyExists,
                    $"Role {target} already exists; a versioned role is never overwritten. Omit -Version to take the next free version ({catalog.NextVersion(baseName, request.Major)}).",
                    target);
            if (claimed.Contains(target))
                throw Duplicate(server, target);
            return new SnapshotPlan { Server = server, SourceRole = sourceRole, TargetRole = target, ImageName = request.ImageName ?? target, NoReboot = request.NoReboot };
        }

        private static IReadOnlyList<string> TouchedFarms(SnapshotPlan plan, IReadOnlyList<FarmRole> farmRoles) =>
            (plan.ReplaceImage ? Fleet.FarmsRunning(plan.TargetRole, farmRoles) : Enumerable.Empty<string>())
                .Append(plan.Server.Farm).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

        private static TtmException Duplicate(Server server, string target) => new TtmException(TtmErrorCode.DuplicateInput,
            $"Server {server.Name} of farm {server.Farm} would snapshot to {target} too, which another server in this pipeline already takes. Pipe one server per role (for example Get-TtmServer -Farm {server.Farm} | Sort-Object Alias -Unique).",
            server.Name);

        /// <summary>
        /// Starts every image, waits for all of them (unless <paramref name="wait"/> is false),
        /// then creates the roles or replaces the images.
        /// </summary>
        /// <param name="imageStarted">Told about each image as soon as it exists (the rebundle journal records it).</param>
        public IReadOnlyList<SnapshotOutcome> Execute(IReadOnlyList<SnapshotPlan> plans, bool wait, TimeSpan timeout, CancellationToken cancellation, Action<SnapshotPlan, Image>? imageStarted = null)
        {
            if (!wait && plans.Any(p => p.ReplaceImage))
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    "-ReplaceImage always waits for the image: a role must never point at an image that is not available yet. Leave out -NoWait.");
            var backend = _fleet.Backend;
            var outcomes = new List<SnapshotOutcome>();
            var started = new List<(SnapshotPlan plan, Image image)>();
            foreach (var plan in plans)
            {
                try
                {
                    Image image;
                    if (plan.ExistingImageId != null)
                    {
                        image = backend.GetImages(new[] { plan.ExistingImageId }, cancellation).FirstOrDefault()
                            ?? throw new TtmException(TtmErrorCode.ImageNotFound, $"Image {plan.ExistingImageId} for role {plan.TargetRole} no longer exists.", plan.ExistingImageId);
                        _reporter.Verbose($"Using image {image.Id} already started for {plan.TargetRole}.");
                    }
                    else
                    {
                        _reporter.Verbose($"Creating image {plan.ImageName} from server {plan.Server.Name} ({plan.Server.Id}).");
                        image = backend.CreateImage(plan.Server, plan.ImageName, plan.NoReboot, cancellation);
                    }
                    imageStarted?.Invoke(plan, image);
                    started.Add((plan, image));
                }
                catch (TtmException e)
                {
                    outcomes.Add(new SnapshotOutcome(plan, null, null, e));
                }
            }
            if (started.Count == 0) return outcomes;

            var ready = started.ToDictionary(s => s.image.Id, s => s.image);
            if (wait)
            {
                var result = new Waiter(backend.Clock, backend.PollInterval, _reporter, backend.Capability<IPollBackoff>()?.LongestPollInterval).WaitForAll(
                    ProgressId, "Waiting for images to become available", started.Select(s => s.image.Id).ToList(),
                    ids => backend.GetImages(ids, cancellation), i => i.Id,
                    i => i.Status == ImageStatus.Available ? WaitState.Done : i.Status == ImageStatus.Failed ? WaitState.Failed : WaitState.Waiting,
                    timeout, cancellation);
                ready = result.Done.ToDictionary(i => i.Id);
                foreach (var failed in result.Failed)
                {
                    var plan = started.First(s => s.image.Id == failed.Id).plan;
                    outcomes.Add(new SnapshotOutcome(plan, null, failed, new TtmException(TtmErrorCode.ImageFailed,
                        $"Image {failed.Id} of server {plan.Server.Name} failed" + (failed.StatusReason == null ? "" : $" ({failed.StatusReason})") +
                        $"; role {plan.TargetRole} was not {(plan.ReplaceImage ? "changed" : "created")}. Check the server and run New-TtmRoleSnapshot again.", plan.Server.Name)));
                }
                foreach (var id in result.TimedOut)
                {
                    var plan = started.First(s => s.image.Id == id).plan;
                    outcomes.Add(new SnapshotOutcome(plan, null, null, new TtmException(TtmErrorCode.ImageTimeout,
                        $"Image {id} of server {plan.Server.Name} was not available within {timeout}; role {plan.TargetRole} was not {(plan.ReplaceImage ? "changed" : "created")}. Raise -Timeout, or use -NoWait and Set-TtmRoleImage once the image is available.", plan.Server.Name)));
                }
            }

            // The roles are made in one pass: settings several of them copy (one role's, for five
            // servers of it) are read once; each change forgets what it changed.
            using var shared = backend.Capability<ISharedListReads>()?.ReadEachListOnce();
            foreach (var (plan, image) in started)
            {
                if (!ready.TryGetValue(image.Id, out var finished)) continue;
                try
                {
                    var role = plan.ReplaceImage
                        ? backend.SetRoleImage(plan.SourceRole, finished.Id, cancellation)
                        : backend.CreateRole(plan.TargetRole, plan.SourceRole, finished.Id, plan.RunId, cancellation);
                    _reporter.Verbose(plan.ReplaceImage ? $"Role {role.Name} now uses image {finished.Id}." : $"Created role {role.Name} with image {finished.Id}.");
                    outcomes.Add(new SnapshotOutcome(plan, role, finished, null));
                }
                catch (TtmException e)
                {
                    outcomes.Add(new SnapshotOutcome(plan, null, finished, e));
                }
            }

            // Report in the order the servers came in.
            return outcomes.OrderBy(o => plans.ToList().IndexOf(o.Plan)).ToList();
        }
    }
}

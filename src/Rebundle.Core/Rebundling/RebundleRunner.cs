using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;

namespace Rebundle.Rebundling
{
    /// <summary>How a rebundle run ended.</summary>
    public enum RebundleStatus
    {
        /// <summary>Every step is done.</summary>
        Completed,

        /// <summary>Stopped at the production gate; resume with approval to continue.</summary>
        WaitingForApproval,
    }

    /// <summary>What Invoke-TtmRebundle returns.</summary>
    public sealed record RebundleResult
    {
        public RebundleStatus Status { get; init; }

        public string Journal { get; init; } = "";

        /// <summary>The versioned roles this rebundle made.</summary>
        public IReadOnlyList<string> NewRoles { get; init; } = Array.Empty<string>();

        public IReadOnlyList<string> StepsDone { get; init; } = Array.Empty<string>();

        public string Message { get; init; } = "";
    }

    /// <summary>What Invoke-TtmRebundle shows before it changes anything, and all that -WhatIf shows.</summary>
    /// <param name="ServerCounts">Servers per farm now, for the plan's batch counts.</param>
    /// <param name="MissingPermissions">What the plan's changes need that the credentials lack (backends that can tell).</param>
    public sealed record RebundlePreview(RebundlePlan Plan, IReadOnlyDictionary<string, int> ServerCounts, IReadOnlyList<MissingPermission> MissingPermissions);

    /// <summary>
    /// Runs runbook steps 1 and 4–8 in order with the same services as the single cmdlets,
    /// journalling before and after every change. Given a journal that already has entries it
    /// resumes: finished steps are skipped, a half-made snapshot is finished with its recorded
    /// (or named) image, a half-done recycle replaces only the servers still to replace and
    /// adopts replacements launched before the interruption.
    /// </summary>
    public sealed class RebundleRunner
    {
        public const string PlanStep = "plan";
        private readonly Fleet _fleet;
        private readonly IJournal _journal;
        private readonly IRunbookReporter _reporter;
        private readonly IServerPreparation? _preparation;

        public RebundleRunner(Fleet fleet, IJournal journal, IRunbookReporter reporter, IServerPreparation? preparation = null)
        {
            _fleet = fleet;
            _journal = journal;
            _reporter = reporter;
            _preparation = preparation;
        }

        public bool IsResume => _journal.Entries.Any(e => e.Step == PlanStep);

        /// <summary>The plan a journal recorded, or null for a new journal.</summary>
        public static RebundlePlan? RecordedPlan(IJournal journal)
        {
            var recorded = journal.Entries.FirstOrDefault(e => e.Step == PlanStep);
            return recorded == null ? null : RebundlePlan.FromData(recorded.Data);
        }

        /// <summary>The journal's plan when resuming; a new plan otherwise (not yet written).</summary>
        public RebundlePlan PlanOrResume(RebundleOptions options)
        {
            var plan = Plan(options);
            RequireReachable(plan);
            return plan;
        }

        /// <summary>The plan without asking whether its remote work can run: what -WhatIf shows.</summary>
        public RebundlePlan Plan(RebundleOptions options) => RecordedPlan(_journal) ?? RebundlePlan.Compute(_fleet, options);

        /// <summary>
        /// The plan (the journal's when resuming), its servers per farm and the permissions it
        /// lacks, from one view of the fleet (<see cref="ISharedListReads"/>): the three ask about
        /// the same farms, farm roles, roles and servers, and each list is read once.
        /// </summary>
        public RebundlePreview Preview(RebundleOptions options)
        {
            using var shared = _fleet.Backend.Capability<ISharedListReads>()?.ReadEachListOnce();
            var plan = Plan(options);
            return new RebundlePreview(plan, ServerCounts(plan), RebundlePreflight.MissingPermissions(_fleet, plan, _preparation));
        }

        /// <summary>Refuses, before anything is written, a plan whose OS update or checks need SSH this run has not got.</summary>
        public void RequireReachable(RebundlePlan plan)
        {
            var why = WhyUnreachable(plan);
            if (why != null) throw why;
        }

        /// <summary>Why the plan's OS update or checks cannot run here (what -WhatIf adds to the plan), or null.</summary>
        public TtmException? WhyUnreachable(RebundlePlan plan)
        {
            if (!plan.SkipOsUpdate && plan.HasBaseStep && _preparation == null)
                return new TtmException(TtmErrorCode.InvalidArgument,
                    $"Updating the OS of the {plan.BaseRole} server needs SSH, which the {_fleet.Backend.Kind} backend's servers do not offer here. Pass -SkipOsUpdate (or -Address to reach a real server).");
            if (plan.Verify && _preparation == null)
                return new TtmException(TtmErrorCode.InvalidArgument,
                    $"This rebundle checks servers over SSH, which the {_fleet.Backend.Kind} backend's servers do not offer here. Leave out -Check (or give -Address to reach a real server).");
            return null;
        }

        /// <summary>Servers per farm now, for the plan's batch counts.</summary>
        public IReadOnlyDictionary<string, int> ServerCounts(RebundlePlan plan) =>
            _fleet.GetServers(new[] { plan.StagingFarm, plan.TestFarm, plan.ProductionFarm }, null, null).Items
                .GroupBy(s => s.Farm, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);

        public RebundleResult Run(RebundlePlan plan, RebundleOptions options, TimeSpan timeout, CancellationToken cancellation)
        {
            if (!IsResume) Append(PlanStep, "begin", plan.ToData());

            if (plan.HasBaseStep)
            {
                if (!plan.SkipOsUpdate) Step("os-update", () => _preparation!.UpdateOs(BaseServers(plan, cancellation), plan.Packages, cancellation));
                Step("base-image", () => SnapshotBase(plan, timeout, cancellation));
            }
            Step("recycle-staging", () => Recycle("recycle-staging", plan.StagingFarm, plan.BatchSize, timeout, cancellation));
            if (plan.Verify) Step("verify-staging", () => Verify(plan.StagingFarm, plan.Snapshots.Keys.ToList(), cancellation));
            Step("snapshot", () => SnapshotRoles(plan, timeout, cancellation));
            Step("swap-test", () => SwapTest(plan, cancellation));
            Step("recycle-test", () => Recycle("recycle-test", plan.TestFarm, plan.BatchSize, timeout, cancellation));
            if (plan.Verify) Step("verify-test", () => Verify(plan.TestFarm, plan.TestSwaps, cancellation));

            if (!Done("gate"))
            {
                if (!options.ApproveProduction)
                {
                    Append("gate", "waiting");
                    return Result(RebundleStatus.WaitingForApproval, plan,
                        $"Stopped before production: {plan.TestFarm} runs the new versions. Test them, then continue with: Invoke-TtmRebundle -Resume '{_journal.Location}' -ApproveProduction");
                }
                Append("gate", "done", new Dictionary<string, string> { ["approved"] = "true" });
            }

            Step("promote", () => Promote(plan, cancellation));
            Step("recycle-production", () => Recycle("recycle-production", plan.ProductionFarm, plan.BatchSize, timeout, cancellation));
            if (!Done("finished")) Append("finished", "done");
            return Result(RebundleStatus.Completed, plan, "The rebundle is complete: production runs the new images.");
        }

        private RebundleResult Result(RebundleStatus status, RebundlePlan plan, string message) => new RebundleResult
        {
            Status = status,
            Journal = _journal.Location,
            NewRoles = _journal.Entries.Where(e => e.Step == "snapshot" && e.Event == "role").Select(e => e["role"]!).ToList(),
            StepsDone = _journal.Entries.Where(e => e.Event == "done").Select(e => e.Step).Distinct().ToList(),
            Message = message,
        };

        private void Step(string name, Action work)
        {
            if (Done(name))
            {
                _reporter.Verbose($"Step {name} was done before; skipping it.");
                return;
            }
            if (!_journal.Entries.Any(e => e.Step == name && e.Event == "begin")) Append(name, "begin");
            _reporter.Verbose($"Step {name}.");
            work();
            Append(name, "done");
        }

        private bool Done(string step) => _journal.Entries.Any(e => e.Step == step && e.Event == "done");

        private IEnumerable<JournalEntry> Events(string step, string @event) => _journal.Entries.Where(e => e.Step == step && e.Event == @event);

        private void Append(string step, string @event, IReadOnlyDictionary<string, string>? data = null) =>
            _journal.Append(new JournalEntry { At = _fleet.Backend.Clock.UtcNow, Step = step, Event = @event, Data = data ?? new Dictionary<string, string>() });

        private IReadOnlyList<Server> BaseServers(RebundlePlan plan, CancellationToken cancellation) =>
            _fleet.GetServers(new[] { plan.StagingFarm }, new[] { plan.BaseRole }, new[] { ServerStatus.Running }, cancellation).Items;

        private void SnapshotBase(RebundlePlan plan, TimeSpan timeout, CancellationToken cancellation)
        {
            var server = BaseServers(plan, cancellation).FirstOrDefault() ?? throw new TtmException(TtmErrorCode.ServerNotRunning,
                $"Farm {plan.StagingFarm} has no running {plan.BaseRole} server to snapshot.", plan.BaseRole);
            if (!Events("base-image", "before").Any())
                Append("base-image", "before", new Dictionary<string, string> { ["role"] = plan.BaseRole, ["imageId"] = _fleet.Roles(cancellation).Require(plan.BaseRole).ImageId });
            var request = new SnapshotRequest { Server = server, ReplaceImage = true, ImageName = plan.BaseImageName };
            var outcome = Snapshot(new[] { (request, "base-image", plan.BaseRole) }, null, timeout, cancellation).Single();
            Append("base-image", "replaced", new Dictionary<string, string> { ["role"] = plan.BaseRole, ["before"] = outcome.Plan.SourceRole.ImageId, ["after"] = outcome.Role!.ImageId });
        }

        private void SnapshotRoles(RebundlePlan plan, TimeSpan timeout, CancellationToken cancellation)
        {
            var catalog = _fleet.Roles();
            var wanted = new List<(SnapshotRequest, string, string)>();
            foreach (var snapshot in plan.Snapshots)
            {
                var existing = catalog.Find(snapshot.Value);
                if (existing != null)
                {
                    Adopt(plan, existing);
                    continue;
                }
                var server = _fleet.GetServers(new[] { plan.StagingFarm }, new[] { snapshot.Key }, new[] { ServerStatus.Running }, cancellation).Items.FirstOrDefault()
                    ?? throw new TtmException(TtmErrorCode.ServerNotRunning, $"Farm {plan.StagingFarm} has no running {snapshot.Key} server to snapshot.", snapshot.Key);
                wanted.Add((new SnapshotRequest { Server = server, Version = RoleName.Parse(snapshot.Value).Version }, "snapshot", snapshot.Value));
            }
            foreach (var outcome in Snapshot(wanted, plan.RunId, timeout, cancellation))
                Append("snapshot", "role", new Dictionary<string, string> { ["role"] = outcome.Role!.Name, ["imageId"] = outcome.Role.ImageId });
        }

        /// <summary>
        /// A planned role that exists already is this run's only if it carries this run's id,
        /// or has the image this journal recorded for it (journals from before run ids). Anything
        /// else was made by someone else — perhaps from another server — and is never promoted.
        /// </summary>
        private void Adopt(RebundlePlan plan, Role existing)
        {
            var recordedImage = _journal.Entries.LastOrDefault(e => e.Step == "snapshot" && (e.Event == "role" || e.Event == "image") && e["role"] == existing.Name)?["imageId"];
            var ours = (plan.RunId.Length > 0 && existing.CreatedByRun == plan.RunId) || (recordedImage != null && recordedImage == existing.ImageId);
            if (!ours)
            {
                var maker = existing.CreatedByRun != null ? $"by another rebundle (run {existing.CreatedByRun})" : "outside this rebundle (it carries no run id)";
                var when = existing.CreatedAt is DateTimeOffset at ? $" at {at:u}" : "";
                throw new TtmException(TtmErrorCode.RoleConflict,
                    $"Role {existing.Name}, which this rebundle (run {(plan.RunId.Length > 0 ? plan.RunId : "without an id")}) planned to create, was made {maker}{when} with image {existing.ImageId}. " +
                    $"It is not adopted: its image may come from another server. Nothing further was changed. Check who made it (Get-TtmAuditLog -Action CreateRole); " +
                    $"if it is not wanted, retire it and run -Resume '{_journal.Location}' again, or start a new rebundle, which plans the next free version.", existing.Name);
            }
            _reporter.Verbose($"Role {existing.Name} was made by this rebundle before it was interrupted; not snapshotting it again.");
            if (!_journal.Entries.Any(e => e.Step == "snapshot" && e.Event == "role" && e["role"] == existing.Name))
                Append("snapshot", "role", new Dictionary<string, string> { ["role"] = existing.Name, ["imageId"] = existing.ImageId });
        }

        /// <summary>Snapshots through the shared service, reusing any image a previous run started.</summary>
        private IReadOnlyList<SnapshotOutcome> Snapshot(IReadOnlyList<(SnapshotRequest request, string step, string target)> wanted, string? runId, TimeSpan timeout, CancellationToken cancellation)
        {
            if (wanted.Count == 0) return Array.Empty<SnapshotOutcome>();
            var service = new SnapshotService(_fleet, _reporter);
            var plans = new List<SnapshotPlan>();
            foreach (var ((plan, error), (_, step, target)) in service.Plan(wanted.Select(w => w.request).ToList(), cancellation).Zip(wanted, (p, w) => (p, w)))
            {
                if (error != null) throw error;
                plans.Add(plan! with { ExistingImageId = ImageStartedBefore(step, target, plan!.ImageName, cancellation), RunId = runId });
            }
            var outcomes = service.Execute(plans, wait: true, timeout, cancellation, (plan, image) =>
            {
                var step = wanted.First(w => w.target == plan.TargetRole).step;
                if (plan.ExistingImageId == null)
                    Append(step, "image", new Dictionary<string, string> { ["role"] = plan.TargetRole, ["imageId"] = image.Id });
            });
            var failed = outcomes.FirstOrDefault(o => o.Error != null);
            if (failed != null) throw failed.Error!;
            return outcomes;
        }

        private string? ImageStartedBefore(string step, string target, string imageName, CancellationToken cancellation)
        {
            var recorded = Events(step, "image").LastOrDefault(e => e["role"] == target)?["imageId"];
            if (recorded != null) return recorded;
            // Started just before a crash, before the journal could say so: find it by name.
            if (!IsResume || !(_fleet.Backend.Capability<IImageLookup>() is { } lookup)) return null;
            return lookup.FindImagesByName(imageName, cancellation).FirstOrDefault(i => i.Status != ImageStatus.Failed)?.Id;
        }

        private void SwapTest(RebundlePlan plan, CancellationToken cancellation)
        {
            var service = new RoleAssignmentService(_fleet);
            foreach (var alias in plan.TestSwaps)
            {
                var newRole = plan.Snapshots.Values.First(r => string.Equals(RoleName.BaseOf(r), alias, StringComparison.OrdinalIgnoreCase));
                var change = service.PlanFarmRole(plan.TestFarm, newRole, alias);
                if (change.IsNoOp) continue;
                Append("swap-test", "swapping", new Dictionary<string, string> { ["farm"] = plan.TestFarm, ["alias"] = alias, ["before"] = change.FarmRole.Role, ["after"] = newRole });
                service.Apply(change, cancellation);
                Append("swap-test", "swapped", new Dictionary<string, string> { ["farm"] = plan.TestFarm, ["alias"] = alias, ["before"] = change.FarmRole.Role, ["after"] = newRole });
            }
        }

        private void Promote(RebundlePlan plan, CancellationToken cancellation)
        {
            var service = new RoleAssignmentService(_fleet);
            var catalog = _fleet.Roles(cancellation);
            foreach (var role in plan.Promotions)
            {
                var source = plan.Snapshots.Values.First(r => string.Equals(RoleName.BaseOf(r), role, StringComparison.OrdinalIgnoreCase));
                var change = service.PlanRoleImage(role, catalog.Require(source).ImageId);
                if (change.IsNoOp) continue;
                Append("promote", "promoting", new Dictionary<string, string> { ["role"] = role, ["before"] = change.Role.ImageId, ["after"] = change.NewImageId });
                service.Apply(change, cancellation);
                Append("promote", "promoted", new Dictionary<string, string> { ["role"] = role, ["before"] = change.Role.ImageId, ["after"] = change.NewImageId });
            }
        }

        private void Recycle(string step, string farm, int batchSize, TimeSpan timeout, CancellationToken cancellation)
        {
            var service = new RecycleService(_fleet, _reporter);
            var scope = RecycleScope.Of(new[] { farm });
            var begin = Events(step, "servers").FirstOrDefault();
            if (begin != null) scope.OnlyServers(begin["ids"]!.Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries));
            var plans = service.Plan(scope, batchSize, cancellation).Items;
            if (begin == null)
            {
                var ids = plans.SelectMany(p => p.Batches.SelectMany(b => b)).Select(s => s.Id).ToList();
                Append(step, "servers", new Dictionary<string, string> { ["farm"] = farm, ["ids"] = string.Join(",", ids) });
            }
            // Surplus left by a run killed mid-step (a replacement it launched) is used or trimmed by the plan itself.
            foreach (var plan in plans)
                service.Execute(plan, timeout, cancellation, replaced: r =>
                    Append(step, "replaced", new Dictionary<string, string> { ["old"] = r.OldId, ["new"] = r.NewId, ["server"] = r.OldServer }));
        }

        private void Verify(string farm, IReadOnlyList<string> aliases, CancellationToken cancellation)
        {
            var servers = _fleet.GetServers(new[] { farm }, aliases, new[] { ServerStatus.Running }, cancellation).Items;
            var failures = _preparation!.Verify(servers, cancellation);
            if (failures.Count > 0)
                throw new TtmException(TtmErrorCode.CheckFailed,
                    $"Checks failed on farm {farm}: {string.Join("; ", failures)}. Fix the servers (or the cookbooks), then resume with -Resume '{_journal.Location}'.", farm);
        }
    }
}

using System.Globalization;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Naming;
using Rebundle.Runbook;

namespace Rebundle.Rebundling
{
    /// <summary>
    /// Everything a rebundle will do, decided before anything changes and written first into
    /// the journal, so a resumed run keeps the same version names and targets.
    /// </summary>
    public sealed record RebundlePlan
    {
        /// <summary>
        /// This run's id, kept with every role it creates, so a resumed run adopts only its own
        /// roles. Empty in journals written before run ids existed.
        /// </summary>
        public string RunId { get; init; } = "";

        /// <summary>The fleet the run changes (<see cref="FleetOf"/>), so retention heeds only this fleet's journals. Empty in older journals.</summary>
        public string Fleet { get; init; } = "";

        /// <summary>A backend's identity as journals record it: kind and location.</summary>
        public static string FleetOf(Backends.IFleetBackend backend) => backend.Kind + " " + backend.Location;

        public string StagingFarm { get; init; } = "";

        public string TestFarm { get; init; } = "";

        public string ProductionFarm { get; init; } = "";

        /// <summary>The base role (TTM-Base) and the staging alias that runs it; empty when the staging farm has none.</summary>
        public string BaseRole { get; init; } = "";

        /// <summary>The image the base role's snapshot gets (step 1).</summary>
        public string BaseImageName { get; init; } = "";

        /// <summary>Staging alias → the versioned role its snapshot becomes (step 5).</summary>
        public IReadOnlyDictionary<string, string> Snapshots { get; init; } = new Dictionary<string, string>();

        /// <summary>Test-farm aliases that take the new versions (step 6).</summary>
        public IReadOnlyList<string> TestSwaps { get; init; } = Array.Empty<string>();

        /// <summary>Production roles that take the new versions' images (step 7).</summary>
        public IReadOnlyList<string> Promotions { get; init; } = Array.Empty<string>();

        public bool Major { get; init; }

        public bool SkipOsUpdate { get; init; }

        /// <summary>Servers are checked before snapshot (step 5) and before the gate (step 6).</summary>
        public bool Verify { get; init; }

        public IReadOnlyList<string> Packages { get; init; } = Array.Empty<string>();

        public int BatchSize { get; init; } = 1;

        public bool HasBaseStep => BaseRole.Length > 0;

        /// <summary>The plan as the operator reads it before anything changes.</summary>
        public IReadOnlyList<string> Describe(IReadOnlyDictionary<string, int> serversPerFarm)
        {
            int Count(string farm) => serversPerFarm.TryGetValue(farm, out var n) ? n : 0;
            string Batches(string farm) => $"{Count(farm)} server(s) in batches of {BatchSize} ({(Count(farm) + BatchSize - 1) / BatchSize} batch(es))";
            var lines = new List<string>();
            if (HasBaseStep)
                lines.Add(SkipOsUpdate
                    ? $"1. Snapshot the {BaseRole} server of {StagingFarm} into role {BaseRole} (image {BaseImageName}); OS update skipped"
                    : $"1. Update the OS of the {BaseRole} server of {StagingFarm}" + (Packages.Count > 0 ? $" (install {string.Join(", ", Packages)})" : "") +
                      $", reboot, snapshot into role {BaseRole} (image {BaseImageName})");
            lines.Add($"4. Recycle {StagingFarm}: {Batches(StagingFarm)}");
            if (Verify) lines.Add($"   Check the {StagingFarm} servers before snapshotting them");
            lines.Add($"5. Snapshot {Snapshots.Count} role(s): " + string.Join(", ", Snapshots.Select(s => $"{s.Key} -> {s.Value}")));
            lines.Add($"6. {TestFarm} runs " + string.Join(", ", TestSwaps.Select(a => Snapshots.First(s => RoleName.BaseOf(s.Value) == a).Value)) + $"; recycle {TestFarm}: {Batches(TestFarm)}");
            if (Verify) lines.Add($"   Check the {TestFarm} servers");
            lines.Add($"   Gate: production changes need -ApproveProduction");
            lines.Add($"7. Production roles take the new images: " + string.Join(", ", Promotions));
            lines.Add($"8. Recycle {ProductionFarm}: {Batches(ProductionFarm)}");
            return lines;
        }

        /// <summary>Decides the plan from the fleet as it is now.</summary>
        public static RebundlePlan Compute(Fleet fleet, RebundleOptions options)
        {
            if (options.BatchSize < 1)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"-BatchSize must be 1 or more; got {options.BatchSize}.", options.BatchSize);
            var staging = fleet.RequireFarm(options.StagingFarm);
            var test = fleet.RequireFarm(options.TestFarm);
            var production = fleet.RequireFarm(options.ProductionFarm);
            var stagingRoles = fleet.Backend.GetFarmRoles(new[] { staging });
            var baseRole = fleet.Names.BaseRole;

            var aliases = stagingRoles.Select(r => r.Alias).Where(a => !string.Equals(a, baseRole, StringComparison.OrdinalIgnoreCase)).ToList();
            if (options.Roles != null && options.Roles.Count > 0)
            {
                foreach (var wanted in options.Roles.Where(w => !aliases.Contains(w, StringComparer.OrdinalIgnoreCase)))
                    throw new TtmException(TtmErrorCode.FarmRoleNotFound,
                        $"Farm {staging} has no farm role aliased '{wanted}' to rebuild." + NameMatcher.SuggestionText(wanted, aliases), wanted);
                aliases = aliases.Where(a => options.Roles.Contains(a, StringComparer.OrdinalIgnoreCase)).ToList();
            }
            if (aliases.Count == 0)
                throw new TtmException(TtmErrorCode.EmptyInput, $"Farm {staging} has no roles to rebuild.", staging);

            var catalog = fleet.Roles();
            var snapshots = aliases.ToDictionary(a => a, a => new RoleName(RoleName.BaseOf(a), catalog.NextVersion(RoleName.BaseOf(a), options.Major)).FullName, StringComparer.OrdinalIgnoreCase);
            var newBases = snapshots.Values.Select(RoleName.BaseOf).ToList();
            var testSwaps = fleet.Backend.GetFarmRoles(new[] { test }).Select(r => r.Alias).Where(a => newBases.Contains(a, StringComparer.OrdinalIgnoreCase)).ToList();
            var promotions = newBases.Where(b => catalog.Find(b) != null).ToList();
            var hasBase = stagingRoles.Any(r => string.Equals(r.Alias, baseRole, StringComparison.OrdinalIgnoreCase));

            return new RebundlePlan
            {
                RunId = NewRunId(fleet.Backend.Clock.UtcNow),
                Fleet = FleetOf(fleet.Backend),
                StagingFarm = staging,
                TestFarm = test,
                ProductionFarm = production,
                BaseRole = hasBase ? baseRole : "",
                BaseImageName = hasBase ? baseRole + "-" + fleet.Backend.Clock.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) : "",
                Snapshots = snapshots,
                TestSwaps = testSwaps,
                Promotions = promotions,
                Major = options.Major,
                SkipOsUpdate = options.SkipOsUpdate,
                Verify = options.Verify,
                Packages = options.Packages,
                BatchSize = options.BatchSize,
            };
        }

        // Readable (when it started) and unique (two runs in one second differ).
        private static string NewRunId(DateTimeOffset now) =>
            now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("n").Substring(0, 8);

        /// <summary>The plan as journal data.</summary>
        public IReadOnlyDictionary<string, string> ToData()
        {
            var data = new Dictionary<string, string>
            {
                ["runId"] = RunId,
                ["fleet"] = Fleet,
                ["stagingFarm"] = StagingFarm,
                ["testFarm"] = TestFarm,
                ["productionFarm"] = ProductionFarm,
                ["baseRole"] = BaseRole,
                ["baseImageName"] = BaseImageName,
                ["testSwaps"] = string.Join(",", TestSwaps),
                ["promotions"] = string.Join(",", Promotions),
                ["major"] = Major ? "true" : "false",
                ["skipOsUpdate"] = SkipOsUpdate ? "true" : "false",
                ["verify"] = Verify ? "true" : "false",
                ["packages"] = string.Join(",", Packages),
                ["batchSize"] = BatchSize.ToString(CultureInfo.InvariantCulture),
            };
            foreach (var snapshot in Snapshots) data["snapshot:" + snapshot.Key] = snapshot.Value;
            return data;
        }

        public static RebundlePlan FromData(IReadOnlyDictionary<string, string> data)
        {
            string Get(string key) => data.TryGetValue(key, out var v) ? v : throw new TtmException(TtmErrorCode.InvalidArgument, $"The journal's plan has no '{key}'; it is not a Rebundle journal.");
            IReadOnlyList<string> List(string key) => Get(key).Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries);
            return new RebundlePlan
            {
                RunId = data.TryGetValue("runId", out var runId) ? runId : "",
                Fleet = data.TryGetValue("fleet", out var fleet) ? fleet : "",
                StagingFarm = Get("stagingFarm"),
                TestFarm = Get("testFarm"),
                ProductionFarm = Get("productionFarm"),
                BaseRole = Get("baseRole"),
                BaseImageName = Get("baseImageName"),
                Snapshots = data.Where(d => d.Key.StartsWith("snapshot:", StringComparison.Ordinal)).ToDictionary(d => d.Key.Substring("snapshot:".Length), d => d.Value, StringComparer.OrdinalIgnoreCase),
                TestSwaps = List("testSwaps"),
                Promotions = List("promotions"),
                Major = Get("major") == "true",
                SkipOsUpdate = Get("skipOsUpdate") == "true",
                Verify = data.TryGetValue("verify", out var verify) && verify == "true",
                Packages = List("packages"),
                BatchSize = int.Parse(Get("batchSize"), CultureInfo.InvariantCulture),
            };
        }
    }
}

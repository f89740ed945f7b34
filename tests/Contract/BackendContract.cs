using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;
using Rebundle.TestKit;
using Xunit;

namespace Rebundle.Contract;

/// <summary>
/// The contract every <see cref="IFleetBackend"/> keeps, written once and run against each
/// backend by a subclass in that backend's test project (SandboxContractTests, AwsContractTests,
/// ScalrContractTests): the same test names, the same assertions. Each test starts from a
/// fresh fleet seeded with the runbook's fleet (<c>RunbookFleet</c>) on a manual clock that
/// the backend and its fake share, so waits take no real time.
///
/// A backend that differs fails its run. A backend that truly lacks an optional capability
/// says why (<see cref="NoImageLookup"/>, <see cref="NoRoleRetirement"/>), and its run then
/// asserts that the capability is really absent rather than skipping.
/// </summary>
public abstract class BackendContract : IDisposable
{
    private static readonly string[] ProductionAliases = { "DevDebug", "NodeAppServer", "RailsAppServer", "Reports", "Sidekiq", "SystemWatcher" };

    /// <summary>The backend under test, connected to a freshly seeded fleet.</summary>
    protected abstract IFleetBackend Backend { get; }

    /// <summary>The clock the backend and its fleet share.</summary>
    protected abstract ManualClock Clock { get; }

    /// <summary>Why this backend cannot find images by name, or null when it can.</summary>
    protected virtual string? NoImageLookup => null;

    /// <summary>Why this backend cannot retire roles, or null when it can.</summary>
    protected virtual string? NoRoleRetirement => null;

    /// <summary>Why a batch of this backend launches all of its servers or none, or null when it can fail part-way.</summary>
    protected virtual string? BatchesAreAllOrNothing => null;

    /// <summary>Makes the next batch launch fail after it launched some of its servers, as the backend's cloud can.</summary>
    protected virtual void FailTheNextBatchPartWay() =>
        throw new NotSupportedException("A backend whose batches can fail part-way says how (or says why they cannot: BatchesAreAllOrNothing).");

    public abstract void Dispose();

    // ---- Reads ---------------------------------------------------------------------------

    [Fact]
    public void Farms_are_the_runbook_farms_each_with_six_farm_roles()
    {
        var farms = Backend.GetFarms();
        Assert.Equal(new[] { "Dev", "Production", "Rebundle-Staging" }, farms.Select(f => f.Name).OrderBy(n => n, StringComparer.Ordinal));
        Assert.All(farms, f => Assert.Equal(6, f.FarmRoleCount));
        Assert.Equal(3, farms.Select(f => f.Id).Distinct().Count());
    }

    [Fact]
    public void Farm_roles_are_read_for_every_farm_or_only_the_named_ones()
    {
        var all = Backend.GetFarmRoles();
        Assert.Equal(18, all.Count);
        Assert.Equal(18, all.Select(r => r.Id).Distinct().Count());

        var staging = Backend.GetFarmRoles(new[] { "Rebundle-Staging" });
        Assert.Equal(new[] { "DevDebug", "NodeAppServer", "RailsAppServer", "Sidekiq", "SystemWatcher", "TTM-Base" }, Aliases(staging));
        Assert.All(staging, r => Assert.Equal("TTM-Base", r.Role));

        var devAndProduction = Backend.GetFarmRoles(new[] { "Dev", "Production" });
        Assert.Equal(12, devAndProduction.Count);
        Assert.All(devAndProduction, r => Assert.Equal(r.Alias, r.Role));
        Assert.Equal(ProductionAliases, Aliases(devAndProduction.Where(r => r.Farm == "Production")));
        Assert.Equal(2, devAndProduction.Single(r => r.Farm == "Production" && r.Alias == "RailsAppServer").DesiredCount);
        Assert.Equal(1, devAndProduction.Single(r => r.Farm == "Dev" && r.Alias == "RailsAppServer").DesiredCount);

        Assert.Empty(Backend.GetFarmRoles(new[] { "NoSuchFarm" }));
        Assert.Empty(Backend.GetFarmRoles(Array.Empty<string>()));
    }

    [Fact]
    public void Roles_are_the_base_role_and_each_production_role_with_its_1_6_twin_on_the_same_image()
    {
        var roles = Backend.GetRoles();
        Assert.Equal(15, roles.Count);
        var production = new[] { "RailsAppServer", "NodeAppServer", "Sidekiq", "Reports", "DataLoad", "DevDebug", "SystemWatcher" };
        foreach (var name in production)
        {
            var role = roles.Single(r => r.Name == name);
            var twin = roles.Single(r => r.Name == name + "-1-6");
            Assert.False(role.IsVersioned);
            Assert.Equal(name, twin.BaseName);
            Assert.Equal("1-6", twin.Version!.ToString());
            Assert.StartsWith("ami-", role.ImageId);
            Assert.Equal(role.ImageId, twin.ImageId);
        }
        var baseRole = roles.Single(r => r.Name == "TTM-Base");
        Assert.DoesNotContain(roles, r => r != baseRole && r.ImageId == baseRole.ImageId);
        Assert.All(roles, r => Assert.Null(r.CreatedByRun));
    }

    [Fact]
    public void Servers_are_the_seeded_ones_all_running_from_their_roles_image()
    {
        var servers = Backend.GetServers(ServerQuery.All);
        Assert.Equal(6 + 6 + 7, servers.Count);
        Assert.Equal(servers.Count, servers.Select(s => s.Id).Distinct().Count());
        Assert.All(servers, s => Assert.Equal(ServerStatus.Running, s.Status));
        var images = Backend.GetRoles().ToDictionary(r => r.Name, r => r.ImageId);
        Assert.All(servers, s => Assert.Equal(images[s.Role], s.ImageId));
        Assert.All(servers.Where(s => s.Farm == "Rebundle-Staging"), s => Assert.Equal("TTM-Base", s.Role));
        Assert.Equal(new[] { "RailsAppServer.1", "RailsAppServer.2" },
            servers.Where(s => s.Farm == "Production" && s.Alias == "RailsAppServer").Select(s => s.Name).OrderBy(n => n, StringComparer.Ordinal));
        var farmRoles = Backend.GetFarmRoles().ToDictionary(r => r.Id);
        Assert.All(servers, s => Assert.Equal((s.Farm, s.Alias), (farmRoles[s.FarmRoleId].Farm, farmRoles[s.FarmRoleId].Alias)));
    }

    [Fact]
    public void Server_queries_filter_by_farm_alias_id_and_status()
    {
        var rails = Backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, Aliases = new[] { "RailsAppServer" } });
        Assert.Equal(new[] { 1, 2 }, rails.Select(s => s.Index).OrderBy(i => i));
        Assert.All(rails, s => Assert.Equal(("Production", "RailsAppServer"), (s.Farm, s.Alias)));

        var sidekiqs = Backend.GetServers(new ServerQuery { Aliases = new[] { "Sidekiq" } });
        Assert.Equal(new[] { "Dev", "Production", "Rebundle-Staging" }, sidekiqs.Select(s => s.Farm).OrderBy(f => f, StringComparer.Ordinal));

        var one = rails.First();
        Assert.Equal(one.Id, Assert.Single(Backend.GetServers(new ServerQuery { Ids = new[] { one.Id } })).Id);
        Assert.Equal(7, Backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, Statuses = new[] { ServerStatus.Running } }).Count);
        Assert.Empty(Backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, Statuses = new[] { ServerStatus.Pending } }));
        Assert.Empty(Backend.GetServers(new ServerQuery { Farms = new[] { "NoSuchFarm" } }));
        Assert.Empty(Backend.GetServers(new ServerQuery { Farms = Array.Empty<string>() }));
    }

    [Fact]
    public void Images_are_read_by_id_and_unknown_ids_are_left_out()
    {
        var rails = Backend.GetRoles().Single(r => r.Name == "RailsAppServer");
        var image = Assert.Single(Backend.GetImages(new[] { rails.ImageId, "ami-0000000000000dead" }));
        Assert.Equal(rails.ImageId, image.Id);
        Assert.Equal("RailsAppServer-1-6", image.Name);
        Assert.Equal(ImageStatus.Available, image.Status);
        Assert.Empty(Backend.GetImages(new[] { "ami-0000000000000dead" }));
        Assert.Empty(Backend.GetImages(Array.Empty<string>()));
    }

    // ---- Missing objects -----------------------------------------------------------------

    [Fact]
    public void A_missing_server_fails_with_ServerNotFound()
    {
        var gone = Server("Dev", "Sidekiq") with { Id = MissingServerId };
        Assert.Equal(TtmErrorCode.ServerNotFound, Assert.Throws<TtmException>(() => Backend.TerminateServers(new[] { gone })).Code);
        Assert.Equal(TtmErrorCode.ServerNotFound, Assert.Throws<TtmException>(() => Backend.CreateImage(gone, "Sidekiq-1-7")).Code);
        Assert.Empty(Backend.GetServers(new ServerQuery { Ids = new[] { MissingServerId }, IncludeTerminated = true }));
    }

    [Fact]
    public void A_missing_role_fails_with_RoleNotFound_and_changes_nothing()
    {
        var roles = Backend.GetRoles();
        var image = roles.Single(r => r.Name == "TTM-Base").ImageId;
        var missing = Role.Named("NoSuchRole-1-0", image);
        Assert.Equal(TtmErrorCode.RoleNotFound, Assert.Throws<TtmException>(() => Backend.SetRoleImage(missing, image)).Code);
        Assert.Equal(TtmErrorCode.RoleNotFound, Assert.Throws<TtmException>(() => Backend.CreateRole("NoSuchRole-1-1", missing, image)).Code);
        var devRails = Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "RailsAppServer");
        Assert.Equal(TtmErrorCode.RoleNotFound, Assert.Throws<TtmException>(() => Backend.SetFarmRoleRole(devRails, "NoSuchRole-1-0")).Code);

        Assert.Equal(roles.Select(r => (r.Name, r.ImageId)).OrderBy(p => p.Name, StringComparer.Ordinal),
            Backend.GetRoles().Select(r => (r.Name, r.ImageId)).OrderBy(p => p.Name, StringComparer.Ordinal));
        Assert.Equal("RailsAppServer", Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "RailsAppServer").Role);
    }

    [Fact]
    public void A_missing_farm_role_fails_with_FarmRoleNotFound_and_launches_nothing()
    {
        var real = Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Sidekiq");
        var missing = real with { Id = MissingFarmRoleId, Alias = "NoSuchAlias" };
        Assert.Equal(TtmErrorCode.FarmRoleNotFound, Assert.Throws<TtmException>(() => Backend.SetFarmRoleRole(missing, "Sidekiq-1-6")).Code);
        Assert.Equal(TtmErrorCode.FarmRoleNotFound, Assert.Throws<TtmException>(() => Backend.LaunchServers(missing, 1)).Code);
        Assert.Equal(TtmErrorCode.FarmRoleNotFound, Assert.Throws<TtmException>(() => Backend.LaunchServers(missing, 3)).Code);
        Assert.Equal(19, Backend.GetServers(new ServerQuery { IncludeTerminated = true }).Count);
    }

    [Fact]
    public void A_role_that_exists_is_never_overwritten()
    {
        var roles = Backend.GetRoles();
        var twin = roles.Single(r => r.Name == "Sidekiq-1-6");
        var other = roles.Single(r => r.Name == "TTM-Base").ImageId;
        Assert.Equal(TtmErrorCode.RoleAlreadyExists, Assert.Throws<TtmException>(() => Backend.CreateRole("Sidekiq-1-6", twin, other)).Code);
        Assert.Equal(twin.ImageId, Backend.GetRoles().Single(r => r.Name == "Sidekiq-1-6").ImageId);
        Assert.Equal(15, Backend.GetRoles().Count);
    }

    // ---- Changes -------------------------------------------------------------------------

    [Fact]
    public void A_snapshot_of_a_running_server_becomes_an_available_image_of_that_name()
    {
        var server = Server("Rebundle-Staging", "Sidekiq");
        var pending = Backend.CreateImage(server, "Sidekiq-1-7");
        Assert.Equal(("Sidekiq-1-7", ImageStatus.Pending, server.Id), (pending.Name, pending.Status, pending.SourceServerId));
        Assert.StartsWith("ami-", pending.Id);

        var image = WaitFor("the image", () => Backend.GetImages(new[] { pending.Id }).SingleOrDefault(), i => i.Status != ImageStatus.Pending);
        Assert.Equal((pending.Id, "Sidekiq-1-7", ImageStatus.Available), (image.Id, image.Name, image.Status));
        Assert.DoesNotContain(Backend.GetRoles(), r => r.ImageId == pending.Id); // a snapshot alone makes no role
    }

    [Fact]
    public void A_snapshot_of_a_server_that_is_not_running_fails_with_ServerNotRunning()
    {
        var farmRole = Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Sidekiq");
        var booting = Backend.LaunchServers(farmRole, 1).Single();
        Assert.Equal(ServerStatus.Pending, booting.Status);
        var e = Assert.Throws<TtmException>(() => Backend.CreateImage(booting, "Sidekiq-1-7"));
        Assert.Equal(TtmErrorCode.ServerNotRunning, e.Code);
    }

    [Fact]
    public void A_role_made_from_a_template_launches_from_the_given_image_and_keeps_its_run()
    {
        var roles = Backend.GetRoles();
        var template = roles.Single(r => r.Name == "Reports-1-6");
        var image = roles.Single(r => r.Name == "TTM-Base").ImageId;
        var made = Backend.CreateRole("Reports-1-7", template, image, runId: "run-contract-1");
        Assert.Equal(("Reports-1-7", "Reports", "1-7", image, "run-contract-1"), (made.Name, made.BaseName, made.Version!.ToString(), made.ImageId, made.CreatedByRun));

        var reread = Backend.GetRoles().Single(r => r.Name == "Reports-1-7");
        Assert.Equal((made.Id, image, "run-contract-1"), (reread.Id, reread.ImageId, reread.CreatedByRun));
        Assert.Equal(template.ImageId, Backend.GetRoles().Single(r => r.Name == "Reports-1-6").ImageId);
    }

    [Fact]
    public void Set_farm_role_points_one_farm_role_at_another_role()
    {
        var devRails = Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "RailsAppServer");
        var changed = Backend.SetFarmRoleRole(devRails, "RailsAppServer-1-6");
        Assert.Equal((devRails.Id, "RailsAppServer-1-6", 1), (changed.Id, changed.Role, changed.DesiredCount));

        var after = Backend.GetFarmRoles();
        Assert.Equal("RailsAppServer-1-6", after.Single(r => r.Id == devRails.Id).Role);
        Assert.Single(after, r => r.Role == "RailsAppServer-1-6");
        Assert.Equal("RailsAppServer", after.Single(r => r.Farm == "Production" && r.Alias == "RailsAppServer").Role);
    }

    [Fact]
    public void Set_role_image_switches_the_role_and_keeps_the_old_image_to_go_back_to()
    {
        var roles = Backend.GetRoles();
        var sidekiq = roles.Single(r => r.Name == "Sidekiq");
        var old = sidekiq.ImageId;
        var next = roles.Single(r => r.Name == "TTM-Base").ImageId;

        Assert.Equal(next, Backend.SetRoleImage(sidekiq, next).ImageId);
        var after = Backend.GetRoles();
        Assert.Equal(next, after.Single(r => r.Name == "Sidekiq").ImageId);
        Assert.Equal(old, after.Single(r => r.Name == "Sidekiq-1-6").ImageId); // the versioned role keeps its own
        Assert.Equal(ImageStatus.Available, Assert.Single(Backend.GetImages(new[] { old })).Status);

        Backend.SetRoleImage(after.Single(r => r.Name == "Sidekiq"), old);
        Assert.Equal(old, Backend.GetRoles().Single(r => r.Name == "Sidekiq").ImageId);
    }

    [Fact]
    public void A_launched_server_joins_its_farm_role_boots_and_terminates()
    {
        var farmRole = Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Sidekiq");
        var launched = Assert.Single(Backend.LaunchServers(farmRole, 1)); // a batch of one
        Assert.Equal(("Dev", "Sidekiq", "Sidekiq", 2, ServerStatus.Pending, farmRole.Id), (launched.Farm, launched.Alias, launched.Role, launched.Index, launched.Status, launched.FarmRoleId));

        var byId = new ServerQuery { Ids = new[] { launched.Id }, IncludeTerminated = true };
        var running = WaitFor("the launch", () => Backend.GetServers(byId).SingleOrDefault(), s => s.Status != ServerStatus.Pending);
        Assert.Equal(ServerStatus.Running, running.Status);
        Assert.Equal(Backend.GetRoles().Single(r => r.Name == "Sidekiq").ImageId, running.ImageId);
        Assert.Equal(2, Backend.GetServers(new ServerQuery { Farms = new[] { "Dev" }, Aliases = new[] { "Sidekiq" } }).Count);

        Backend.TerminateServers(new[] { running });
        WaitFor("the termination", () => Backend.GetServers(byId).SingleOrDefault(), s => s.Status == ServerStatus.Terminated);
        Assert.DoesNotContain(Backend.GetServers(ServerQuery.All), s => s.Id == launched.Id);
        Assert.Equal(1, Assert.Single(Backend.GetServers(new ServerQuery { Farms = new[] { "Dev" }, Aliases = new[] { "Sidekiq" } })).Index);
    }

    [Fact]
    public void A_batch_launches_its_servers_each_with_its_own_index_and_one_call_terminates_them()
    {
        var farmRole = Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Reports");
        // Two: Scalr's farm roles allow three servers (maxInstances), and a batch must fit above the one running.
        var launched = Backend.LaunchServers(farmRole, 2);
        Assert.Equal(new[] { 2, 3 }, launched.Select(s => s.Index).OrderBy(i => i));
        Assert.All(launched, s => Assert.Equal(("Dev", "Reports", farmRole.Id, ServerStatus.Pending), (s.Farm, s.Alias, s.FarmRoleId, s.Status)));
        Assert.Equal(2, launched.Select(s => s.Id).Distinct().Count());
        Assert.Empty(Backend.LaunchServers(farmRole, 0));

        var byIds = new ServerQuery { Ids = launched.Select(s => s.Id).ToList(), IncludeTerminated = true };
        WaitFor("the batch to boot", () => Backend.GetServers(byIds), all => all.Count == 2 && all.All(s => s.Status != ServerStatus.Pending));
        Assert.All(Backend.GetServers(byIds), s => Assert.Equal(ServerStatus.Running, s.Status));

        Backend.TerminateServers(launched);
        WaitFor("the batch to terminate", () => Backend.GetServers(byIds), all => all.All(s => s.Status == ServerStatus.Terminated));
        Assert.Equal(1, Assert.Single(Backend.GetServers(new ServerQuery { Farms = new[] { "Dev" }, Aliases = new[] { "Reports" } })).Index);
    }

    [Fact]
    public void A_batch_that_fails_part_way_names_every_server_it_launched()
    {
        var farmRole = Backend.GetFarmRoles(new[] { "Dev" }).Single(r => r.Alias == "Reports");
        var live = new ServerQuery { Farms = new[] { "Dev" }, Aliases = new[] { "Reports" } };
        if (BatchesAreAllOrNothing != null)
        {
            // All or nothing: a batch refused (its farm role gone) launched none of it.
            var gone = farmRole with { Id = MissingFarmRoleId };
            Assert.IsNotType<LaunchIncompleteException>(Assert.ThrowsAny<TtmException>(() => Backend.LaunchServers(gone, 2)));
            Assert.Single(Backend.GetServers(live));
            return;
        }
        FailTheNextBatchPartWay();

        var error = Assert.Throws<LaunchIncompleteException>(() => Backend.LaunchServers(farmRole, 2));

        Assert.InRange(error.Launched.Count, 1, 2);
        // Nothing launched is lost: every server the fleet shows beyond the one it had is named.
        var now = Backend.GetServers(live).Where(s => s.Index != 1).Select(s => s.Id).OrderBy(i => i, StringComparer.Ordinal);
        Assert.Equal(error.Launched.Select(s => s.Id).OrderBy(i => i, StringComparer.Ordinal), now);
        Backend.TerminateServers(error.Launched);
    }

    [Fact]
    public void Recycle_reads_what_it_needs_to_replace_a_farm_roles_servers()
    {
        var before = Backend.GetServers(new ServerQuery { Farms = new[] { "Production" }, Aliases = new[] { "RailsAppServer" } });
        var fleet = new Fleet(Backend);
        var service = new RecycleService(fleet, new SilentReporter());
        var plan = Assert.Single(service.Plan(new[] { "Production" }, new[] { "RailsAppServer" }, batchSize: 1).Items);
        Assert.Equal(2, plan.ServerCount);

        var done = service.Execute(plan, TimeSpan.FromMinutes(30), CancellationToken.None);
        Assert.Equal(before.Select(s => s.Id).OrderBy(i => i, StringComparer.Ordinal), done.Select(r => r.OldId).OrderBy(i => i, StringComparer.Ordinal));

        var query = new ServerQuery { Farms = new[] { "Production" }, Aliases = new[] { "RailsAppServer" } };
        var after = WaitFor("the old servers to go", () => Backend.GetServers(query), s => s.All(x => before.All(b => b.Id != x.Id)));
        Assert.Equal(2, after.Count);
        Assert.All(after, s => Assert.Equal(ServerStatus.Running, s.Status));
        Assert.Equal(done.Select(r => r.NewId).OrderBy(i => i, StringComparer.Ordinal), after.Select(s => s.Id).OrderBy(i => i, StringComparer.Ordinal));
    }

    // ---- Optional capabilities -----------------------------------------------------------

    [Fact]
    public void Retiring_a_role_removes_it_and_its_image_unless_something_still_uses_them()
    {
        var retirement = Backend.Capability<IRoleRetirement>();
        if (NoRoleRetirement != null)
        {
            Assert.Null(retirement); // NoRoleRetirement says why
            return;
        }
        Assert.NotNull(retirement);

        var roles = Backend.GetRoles();
        var inUse = roles.Single(r => r.Name == "NodeAppServer");
        Assert.Equal(TtmErrorCode.InvalidArgument, Assert.Throws<TtmException>(() => retirement!.DeleteRole(inUse, deleteImage: true)).Code);
        Assert.Contains(Backend.GetRoles(), r => r.Name == "NodeAppServer");

        // The twin's image is still the production role's: the twin goes, the image stays.
        var twin = roles.Single(r => r.Name == "NodeAppServer-1-6");
        retirement!.DeleteRole(twin, deleteImage: true);
        Assert.DoesNotContain(Backend.GetRoles(), r => r.Name == "NodeAppServer-1-6");
        Assert.Single(Backend.GetImages(new[] { twin.ImageId }));

        // A role of its own image: both go.
        var snapshot = Backend.CreateImage(Server("Rebundle-Staging", "NodeAppServer"), "NodeAppServer-1-7");
        WaitFor("the image", () => Backend.GetImages(new[] { snapshot.Id }).SingleOrDefault(), i => i.Status == ImageStatus.Available);
        var made = Backend.CreateRole("NodeAppServer-1-7", inUse, snapshot.Id);
        retirement.DeleteRole(made, deleteImage: true);
        Assert.DoesNotContain(Backend.GetRoles(), r => r.Name == "NodeAppServer-1-7");
        Assert.Empty(Backend.GetImages(new[] { snapshot.Id }));
        Assert.Equal(TtmErrorCode.RoleNotFound, Assert.Throws<TtmException>(() => retirement.DeleteRole(made, deleteImage: false)).Code);
    }

    [Fact]
    public void Images_are_found_by_their_exact_name()
    {
        var lookup = Backend.Capability<IImageLookup>();
        if (NoImageLookup != null)
        {
            Assert.Null(lookup); // NoImageLookup says why
            return;
        }
        Assert.NotNull(lookup);

        var twin = Backend.GetRoles().Single(r => r.Name == "DataLoad-1-6");
        Assert.Equal(twin.ImageId, Assert.Single(lookup!.FindImagesByName("DataLoad-1-6")).Id);
        Assert.Empty(lookup.FindImagesByName("DataLoad"));
        Assert.Empty(lookup.FindImagesByName("DataLoad-1-7"));

        var pending = Backend.CreateImage(Server("Rebundle-Staging", "Sidekiq"), "Sidekiq-1-7");
        var found = Assert.Single(lookup.FindImagesByName("Sidekiq-1-7")); // found while still being made
        Assert.Equal(pending.Id, found.Id);
    }

    // ---- Helpers -------------------------------------------------------------------------

    /// <summary>A server id this backend has never had, in the backend's own id format.</summary>
    protected virtual string MissingServerId => "i-0000000000000dead";

    /// <summary>A farm-role id this backend has never had, in the backend's own id format.</summary>
    protected virtual string MissingFarmRoleId => "farmrole-404";

    protected Server Server(string farm, string alias, int index = 1) =>
        Backend.GetServers(new ServerQuery { Farms = new[] { farm }, Aliases = new[] { alias } }).Single(s => s.Index == index);

    /// <summary>Reads until <paramref name="done"/>, advancing the shared clock by the backend's poll interval between reads.</summary>
    protected T WaitFor<T>(string what, Func<T?> read, Func<T, bool> done) where T : class
    {
        var deadline = Clock.UtcNow + TimeSpan.FromMinutes(30);
        while (true)
        {
            var value = read();
            if (value != null && done(value)) return value;
            Assert.True(Clock.UtcNow < deadline, $"Waited 30 simulated minutes for {what} on {Backend.Kind}; last read: {value}.");
            Clock.Advance(Backend.PollInterval);
        }
    }

    private static IEnumerable<string> Aliases(IEnumerable<FarmRole> farmRoles) =>
        farmRoles.Select(r => r.Alias).OrderBy(a => a, StringComparer.Ordinal).ToList();
}

using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Tests;

public class RoleAssignmentServiceTests : IDisposable
{
    private readonly TestFleet _t = new();

    public void Dispose() => _t.Dispose();

    private RoleAssignmentService Service => new(_t.Fleet);

    [Fact]
    public void A_versioned_role_goes_to_the_farm_role_aliased_by_its_base_name()
    {
        var change = Service.PlanFarmRole("Dev", "Sidekiq-1-6", alias: null);
        Assert.Equal("Sidekiq", change.FarmRole.Alias);
        Service.Apply(change);
        Assert.Equal("Sidekiq-1-6", _t.Fleet.RequireFarmRole("Dev", "Sidekiq").Role);
        Assert.Equal("Sidekiq", _t.Fleet.RequireFarmRole("Production", "Sidekiq").Role);
    }

    [Fact]
    public void A_role_that_does_not_exist_is_refused_with_a_suggestion()
    {
        var error = Assert.Throws<TtmException>(() => Service.PlanFarmRole("Dev", "Sidekiq-1-66", null));
        Assert.Equal(TtmErrorCode.RoleNotFound, error.Code);
        Assert.Contains("Sidekiq-1-6", error.Message);
    }

    [Fact]
    public void An_unknown_farm_is_refused_with_a_suggestion()
    {
        var error = Assert.Throws<TtmException>(() => Service.PlanFarmRole("Deb", "Sidekiq-1-6", null));
        Assert.Equal(TtmErrorCode.FarmNotFound, error.Code);
        Assert.Contains("Did you mean 'Dev'?", error.Message);
    }

    [Fact]
    public void A_role_takes_an_available_image_and_names_the_farms_it_affects()
    {
        var versioned = _t.Backend.CreateRole("Reports-1-7", _t.Fleet.Roles().Require("Reports"), _t.Fleet.Roles().Require("TTM-Base").ImageId);
        var change = Service.PlanRoleImage("Reports", versioned.ImageId);
        Assert.Equal(new[] { "Dev", "Production" }, change.FarmsAffected.OrderBy(f => f));
        Service.Apply(change);
        Assert.Equal(versioned.ImageId, _t.Fleet.Roles().Require("Reports").ImageId);
    }

    [Fact]
    public void A_role_never_takes_an_image_that_is_not_available()
    {
        _t.Backend.Simulate(o => o.ImageDelay = TimeSpan.FromMinutes(10));
        var pending = _t.Backend.CreateImage(_t.Server("Rebundle-Staging", "Sidekiq"), "Sidekiq-1-7");
        var error = Assert.Throws<TtmException>(() => Service.PlanRoleImage("Sidekiq", pending.Id));
        Assert.Equal(TtmErrorCode.ImageFailed, error.Code);
        Assert.Contains("Pending", error.Message);
        var missing = Assert.Throws<TtmException>(() => Service.PlanRoleImage("Sidekiq", "ami-nope"));
        Assert.Equal(TtmErrorCode.ImageNotFound, missing.Code);
    }

    [Fact]
    public void A_pipeline_of_roles_reads_the_fleet_once_and_sees_its_own_changes()
    {
        var counting = new CountingBackend(_t.Backend);
        var service = new RoleAssignmentService(new Fleet(counting));
        foreach (var role in new[] { "RailsAppServer-1-6", "Sidekiq-1-6", "NodeAppServer-1-6", "DevDebug-1-6", "SystemWatcher-1-6" })
            service.Apply(service.PlanFarmRole("Dev", role, null));

        Assert.Equal(3, counting.ListReads); // roles, farms, farm roles: once each
        Assert.Equal("Sidekiq-1-6", _t.Fleet.RequireFarmRole("Dev", "Sidekiq").Role);
        // The service's own change is known to it: swapping back is not mistaken for a no-op.
        var back = service.PlanFarmRole("Dev", "Sidekiq", null);
        Assert.False(back.IsNoOp);
        Assert.Equal("Sidekiq-1-6", back.FarmRole.Role);
    }
}

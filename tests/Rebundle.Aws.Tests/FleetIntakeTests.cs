using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Rebundle.Audit;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Ec2Endpoint;
using Rebundle.Errors;
using Rebundle.Runbook;
using Rebundle.TestKit;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>
/// Bringing a fleet made without Rebundle's tags under it (New-TtmRole, New-TtmFarmRole's core):
/// an Auto Scaling group launching from a launch template of its own, behind a target group,
/// and two instances tagged by nobody but app=reports. After the intake they recycle like any
/// farm role. Through the audit wrapper, as Connect-TtmFleet wires it.
/// </summary>
public class FleetIntakeTests : IDisposable
{
    private readonly AwsFleet _fleet = new();
    private readonly ListSink _audit = new();
    private readonly Fleet _audited;
    private readonly FleetIntakeService _intake;
    private readonly string _image;
    private readonly List<string> _reports;

    public FleetIntakeTests()
    {
        _audited = new Fleet(new AuditingBackend(_fleet.Backend, _audit, "ops@host"));
        _intake = new FleetIntakeService(_audited);
        _image = _fleet.Ec2.AddImage("legacy-2025", createdAt: _fleet.Clock.UtcNow - TimeSpan.FromDays(90)).Id;
        _fleet.Ec2.AddLaunchTemplate("legacy-web-lt", new Dictionary<string, string>
        {
            ["ImageId"] = _image, ["InstanceType"] = "m5.large", ["KeyName"] = "legacy", ["SecurityGroupId.1"] = "sg-0legacy000000000001",
        }, Array.Empty<KeyValuePair<string, string>>());
        _fleet.Ec2.Elbv2.AddTargetGroup("legacy-web", TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5), 2);
        _fleet.Ec2.AutoScaling.AddGroup("legacy-web-asg", "legacy-web-lt", "$Latest", min: 1, max: 3, desired: 2, targetGroups: new[] { "legacy-web" }, healthCheckType: "ELB");
        _reports = Enumerable.Range(0, 2).Select(_ => _fleet.Ec2.AddInstance(_image, RunbookSeed.Tags(("app", "reports"))).Id).ToList();
        _fleet.Ec2.ClearRequests();
    }

    public void Dispose()
    {
        _audited.Dispose();
        _fleet.Dispose();
    }

    private Role NewWebRole() => _intake.NewRole(new RoleIntake { Name = "LegacyWeb", LaunchTemplate = "legacy-web-lt" });

    private FarmRoleIntake WebFarmRole => new() { Farm = "Legacy", Alias = "LegacyWeb", Role = "LegacyWeb", AutoScalingGroup = "legacy-web-asg" };

    private FarmRoleIntake ReportsFarmRole => new() { Farm = "Legacy", Alias = "Reports", Role = "LegacyReports", Tags = new Dictionary<string, string> { ["app"] = "reports" } };

    [Fact]
    public void A_role_from_an_existing_launch_template_takes_every_launch_setting_of_its_default_version()
    {
        var role = NewWebRole();

        Assert.Equal(("LegacyWeb", _image), (role.Name, role.ImageId));
        var template = _fleet.Ec2.LaunchTemplateNamed("role/LegacyWeb")!;
        Assert.Equal("m5.large", template.Versions[0].Data["InstanceType"]);
        Assert.Equal("legacy", template.Versions[0].Data["KeyName"]);
        Assert.Equal("sg-0legacy000000000001", template.Versions[0].Data["SecurityGroupId.1"]);
        Assert.Equal("role", template.Tags["ttm:kind"]);
        Assert.Contains(_audited.Roles().All, r => r.Name == "LegacyWeb");
        var intent = _audit.Entries.First(e => e.Action == "NewRole");
        Assert.True(intent.IsIntent);
        Assert.Equal(new[] { "DescribeLaunchTemplates", "DescribeLaunchTemplateVersions", "DescribeImages", "CreateLaunchTemplate" },
            _fleet.Ec2.Requests.Select(r => r.Action).Distinct());
    }

    [Fact]
    public void A_role_from_an_image_that_is_not_there_or_a_name_taken_makes_nothing()
    {
        var missing = Assert.Throws<TtmException>(() => _intake.NewRole(new RoleIntake { Name = "LegacyReports", ImageId = "ami-00000000000000dead" }));
        var taken = Assert.Throws<TtmException>(() => _intake.NewRole(new RoleIntake { Name = "Sidekiq", ImageId = _image }));
        var malformed = Assert.Throws<TtmException>(() => _intake.NewRole(new RoleIntake { Name = "-bad", ImageId = _image }));

        Assert.Equal(TtmErrorCode.ImageNotFound, missing.Code);
        Assert.Equal(TtmErrorCode.RoleAlreadyExists, taken.Code);
        Assert.Equal(TtmErrorCode.RoleNameMalformed, malformed.Code);
        Assert.Empty(_fleet.Mutations);
    }

    [Fact]
    public void A_preview_of_a_group_reads_its_count_servers_and_target_groups_and_changes_nothing()
    {
        NewWebRole();
        _fleet.Ec2.ClearRequests();

        var preview = _intake.Preview(WebFarmRole);

        Assert.Equal(2, preview.Count);
        Assert.Equal(_fleet.Ec2.AutoScaling.Group("legacy-web-asg").Instances.Select(i => i.Id).OrderBy(i => i), preview.InstanceIds.OrderBy(i => i));
        Assert.Equal(new[] { "legacy-web" }, preview.TargetGroups);
        Assert.Contains("Auto Scaling group legacy-web-asg", FleetIntakeService.Describe(preview));
        Assert.Empty(_fleet.Mutations);
    }

    [Fact]
    public void A_group_brought_in_is_its_farm_role_and_recycles_through_the_group_back_to_as_it_was()
    {
        NewWebRole();

        var farmRole = _intake.NewFarmRole(_intake.Preview(WebFarmRole));

        Assert.Equal(("legacy-web-asg", 2), (farmRole.ScalingGroup, farmRole.DesiredCount));
        var group = _fleet.Ec2.AutoScaling.Group("legacy-web-asg");
        Assert.Equal(("role/LegacyWeb", "$Default"), (group.LaunchTemplateName, group.Version));
        Assert.Contains(group.Tags, t => t is { Key: "ttm:farm", Value: "Legacy", PropagateAtLaunch: true });
        var read = _audited.Backend.GetFarmRoles(new[] { "Legacy" }).Single();
        Assert.Equal(("LegacyWeb", "LegacyWeb", 2, "legacy-web-asg"), (read.Alias, read.Role, read.DesiredCount, read.ScalingGroup));
        Assert.Equal(new[] { "legacy-web" }, read.TargetGroups);
        var servers = _audited.Backend.GetServers(new ServerQuery { Farms = new[] { "Legacy" } });
        Assert.Equal(new[] { "LegacyWeb.1", "LegacyWeb.2" }, servers.Select(s => s.Name).OrderBy(n => n));
        Assert.Equal("NewFarmRole", _audit.Entries.Last().Action);

        var service = new RecycleService(_audited, new RecordingReporter());
        var plan = service.Plan(new[] { "Legacy" }, null, 2).Items.Single();
        var recycled = service.Execute(new[] { plan }, new RecycleOptions { Timeout = TimeSpan.FromMinutes(10) }, CancellationToken.None);

        Assert.Equal(2, recycled.Count);
        _fleet.Clock.Advance(TimeSpan.FromMinutes(2));
        var after = _fleet.Ec2.AutoScaling.Group("legacy-web-asg");
        Assert.Equal((2, 3), (after.Desired, after.Max));
        Assert.Empty(after.SuspendedProcesses);
        Assert.Equal(recycled.Select(r => r.NewId).OrderBy(i => i), after.Instances.Select(i => i.Id).OrderBy(i => i));
        Assert.Contains(_audit.Entries, e => e.Action == "HoldScalingGroup" && e.IsIntent);
        Assert.Contains(_audit.Entries, e => e.Action == "ReleaseScalingGroup" && !e.IsIntent && e.After!.StartsWith("restored"));
        // Held before the group was asked for more, released after the last termination.
        var actions = _audit.Entries.Where(e => e.IsIntent).Select(e => e.Action).ToList();
        Assert.True(actions.IndexOf("HoldScalingGroup") < actions.IndexOf("LaunchServer"));
        Assert.True(actions.LastIndexOf("TerminateServer") < actions.IndexOf("ReleaseScalingGroup"));
    }

    [Fact]
    public void Instances_chosen_by_tag_are_tagged_oldest_first_and_recycle_as_a_plain_farm_role()
    {
        _intake.NewRole(new RoleIntake { Name = "LegacyReports", ImageId = _image, InstanceType = "t3.small" });

        var farmRole = _intake.NewFarmRole(_intake.Preview(ReportsFarmRole with { Count = 2 }));

        Assert.Null(farmRole.ScalingGroup);
        Assert.Equal(2, farmRole.DesiredCount);
        Assert.Equal(new[] { "Legacy/Reports.1", "Legacy/Reports.2" }, _reports.Select(id => _fleet.InstanceTags(id)["Name"]));
        var service = new RecycleService(_audited, new RecordingReporter());
        var recycled = service.Execute(service.Plan(new[] { "Legacy" }, null, 2).Items, new RecycleOptions { Timeout = TimeSpan.FromMinutes(10) }, CancellationToken.None);
        Assert.Equal(_reports.OrderBy(i => i), recycled.Select(r => r.OldId).OrderBy(i => i));
        Assert.All(_reports, id => Assert.NotEqual("running", _fleet.Ec2.StateOf(_fleet.Ec2.Instances.Single(i => i.Id == id))));
    }

    [Fact]
    public void What_may_not_be_brought_in_is_refused_before_anything_changes()
    {
        NewWebRole();
        _fleet.Ec2.ClearRequests();
        var groupInstance = _fleet.Ec2.AutoScaling.Group("legacy-web-asg").Instances[0].Id;
        var dev = _fleet.Fleet.GetServers(new[] { "Dev" }, new[] { "Sidekiq" }, null).Items.Single();

        TtmErrorCode Refused(FarmRoleIntake request) => Assert.Throws<TtmException>(() => _intake.Preview(request)).Code;

        Assert.Equal(TtmErrorCode.ManagedByAutoScaling, Refused(WebFarmRole with { AutoScalingGroup = null, InstanceIds = new[] { groupInstance } }));
        Assert.Equal(TtmErrorCode.InvalidArgument, Refused(WebFarmRole with { AutoScalingGroup = null, InstanceIds = new[] { dev.Id } }));
        Assert.Equal(TtmErrorCode.ScalingGroupNotFound, Refused(WebFarmRole with { AutoScalingGroup = "no-such-group" }));
        Assert.Equal(TtmErrorCode.RoleNotFound, Refused(WebFarmRole with { Role = "NoSuchRole" }));
        Assert.Equal(TtmErrorCode.FarmRoleAlreadyExists, Refused(WebFarmRole with { Farm = "Dev", Alias = "Sidekiq" }));
        Assert.Equal(TtmErrorCode.InvalidArgument, Refused(WebFarmRole with { Count = 5 }));
        Assert.Equal(TtmErrorCode.ServerNotFound, Refused(ReportsFarmRole with { Role = "LegacyWeb", Tags = new Dictionary<string, string> { ["app"] = "nothing" } }));
        // Two servers match the tag; a count of one would make the next recycle terminate the other.
        var tooMany = Assert.Throws<TtmException>(() => _intake.Preview(ReportsFarmRole with { Role = "LegacyWeb", Count = 1 }));
        Assert.Equal(TtmErrorCode.InvalidArgument, tooMany.Code);
        Assert.All(_reports, id => Assert.Contains(id, tooMany.Message));
        Assert.Empty(_fleet.Mutations);
    }

    [Fact]
    public void A_stopped_intake_leaves_no_farm_role_and_the_same_request_again_finishes_it()
    {
        _intake.NewRole(new RoleIntake { Name = "LegacyReports", ImageId = _image });
        _fleet.Ec2.Faults.DeniedActions.Add("CreateLaunchTemplate"); // stopped after the servers were tagged, before the farm role was made

        Assert.Throws<TtmException>(() => _intake.NewFarmRole(_intake.Preview(ReportsFarmRole)));

        Assert.Empty(_audited.Backend.GetFarmRoles(new[] { "Legacy" }));
        _fleet.Ec2.Faults.DeniedActions.Clear();
        var farmRole = _intake.NewFarmRole(_intake.Preview(ReportsFarmRole));
        Assert.Equal(2, farmRole.DesiredCount);
        Assert.Equal(2, _audited.Backend.GetServers(new ServerQuery { Farms = new[] { "Legacy" } }).Count);
    }

    [Fact]
    public void On_the_Sandbox_there_is_nothing_to_bring_in_and_it_says_so()
    {
        using var folder = new TempFolder();
        using var sandbox = new Fleet(Rebundle.Sandbox.SandboxBackend.Open(folder.Directory));

        var error = Assert.Throws<TtmException>(() => new FleetIntakeService(sandbox).NewRole(new RoleIntake { Name = "X", ImageId = "ami-1" }));

        Assert.Equal(TtmErrorCode.InvalidArgument, error.Code);
        Assert.Contains("AWS", error.Message);
    }

    [Fact]
    public void The_preflight_reads_a_group_with_the_Auto_Scaling_actions_and_names_a_denied_one()
    {
        NewWebRole();
        _intake.NewFarmRole(_intake.Preview(WebFarmRole));
        _fleet.Ec2.AutoScaling.Faults.DeniedActions.Add("DescribeLifecycleHooks");
        var farmRole = _audited.Backend.GetFarmRoles(new[] { "Legacy" }).Single();

        var missing = _audited.Backend.Capability<IPermissionCheck>()!.MissingPermissions(new PermissionCheckRequest { ToLaunchInto = new[] { farmRole } });

        Assert.Equal(new[] { "autoscaling:DescribeLifecycleHooks" }, missing.Select(m => m.Permission));
        Assert.DoesNotContain(_fleet.Ec2.Requests, r => r.Action == "RunInstances"); // a group launches its own: no RunInstances dry run for it
    }
}

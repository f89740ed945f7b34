using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Rebundle.Audit;
using Rebundle.Backends;
using Rebundle.Errors;
using Rebundle.Rebundling;
using Rebundle.Runbook;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>
/// Permissions checked with EC2's DryRun before a rebundle changes anything, through the audit
/// wrapper as Connect-TtmFleet wires it, against an endpoint that denies chosen actions.
/// </summary>
public class PreflightTests
{
    private static readonly RebundleOptions Options = new() { SkipOsUpdate = true };

    private static Fleet Audited(AwsFleet fleet) => new(new AuditingBackend(fleet.Backend, new NoAudit(), "ops@host"));

    [Fact]
    public void With_every_permission_granted_nothing_is_missing_and_nothing_changes()
    {
        using var fleet = new AwsFleet();
        var audited = Audited(fleet);
        var plan = RebundlePlan.Compute(audited, Options);
        fleet.Ec2.ClearRequests();

        Assert.Empty(RebundlePreflight.MissingPermissions(audited, plan));

        Assert.Empty(fleet.Mutations);
        var dryRuns = fleet.Ec2.Requests.Where(r => r.IsDryRun).ToList();
        Assert.Equal(new[] { "CreateImage", "CreateLaunchTemplate", "CreateLaunchTemplateVersion", "CreateTags", "DeleteTags", "ModifyLaunchTemplate", "RunInstances", "TerminateInstances" },
            dryRuns.Select(r => r.Action).OrderBy(a => a, StringComparer.Ordinal));
        Assert.All(dryRuns, r => Assert.Equal("DryRunOperation", r.ErrorCode));
    }

    [Fact]
    public void Every_missing_permission_is_listed_at_once_with_its_IAM_name_before_any_change()
    {
        using var fleet = new AwsFleet();
        fleet.Ec2.Faults.DeniedActions.UnionWith(new[] { "CreateImage", "ModifyLaunchTemplate", "RunInstances" });
        var audited = Audited(fleet);
        var plan = RebundlePlan.Compute(audited, Options);
        fleet.Ec2.ClearRequests();

        var error = Assert.Throws<TtmException>(() => RebundlePreflight.Require(audited, plan));

        Assert.Equal(TtmErrorCode.AccessDenied, error.Code);
        Assert.Equal("ec2:CreateImage,ec2:ModifyLaunchTemplate,ec2:RunInstances", string.Join(",", error.Target!.ToString()!.Split(',').OrderBy(p => p, StringComparer.Ordinal)));
        Assert.Contains("ec2:CreateImage (snapshot servers)", error.Message);
        Assert.Contains("ec2:ModifyLaunchTemplate", error.Message);
        Assert.Contains("ec2:RunInstances (launch replacement servers)", error.Message);
        Assert.Contains("nothing was changed", error.Message);
        Assert.Empty(fleet.Mutations);
        Assert.Equal(3, fleet.Ec2.Requests.Count(r => r.IsDryRun && r.ErrorCode == "UnauthorizedOperation"));
    }

    [Fact]
    public void Retiring_checks_DeleteLaunchTemplate_and_DeregisterImage()
    {
        using var fleet = new AwsFleet();
        fleet.Ec2.Faults.DeniedActions.Add("DeregisterImage");
        var role = fleet.Fleet.Roles().Require("Reports-1-6");

        var missing = fleet.Backend.MissingPermissions(new PermissionCheckRequest { ToRetire = new[] { role } });

        Assert.Equal("ec2:DeregisterImage", Assert.Single(missing).Permission);
        Assert.Contains(fleet.Ec2.Requests, r => r.Action == "DeleteLaunchTemplate" && r.ErrorCode == "DryRunOperation");
        Assert.NotNull(fleet.Ec2.LaunchTemplateNamed("role/Reports-1-6"));
    }

    /// <summary>docs/aws.md's minimal IAM policies name every EC2 action the backend calls, and nothing else.</summary>
    [Fact]
    public void The_documented_IAM_policies_name_every_EC2_action_the_backend_calls()
    {
        var root = RepoRoot();
        var called = Directory.GetFiles(Path.Combine(root, "src", "Rebundle.Aws"), "*.cs", SearchOption.AllDirectories)
            .SelectMany(f => Regex.Matches(File.ReadAllText(f), @"\bec2\.(\w+)Async\(").Select(m => "ec2:" + m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);
        var docs = File.ReadAllText(Path.Combine(root, "docs", "aws.md"));
        var policies = Regex.Matches(docs, @"```json\s*\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();
        var documented = policies.SelectMany(p => Regex.Matches(p, "\"(ec2:\\w+)\"").Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);

        Assert.True(called.Count >= 15, $"found only {called.Count} EC2 calls in src/Rebundle.Aws");
        Assert.Empty(called.Except(documented).OrderBy(a => a));
        // DeleteSnapshot is not called itself: DeregisterImage with DeleteAssociatedSnapshots needs it.
        Assert.Empty(documented.Except(called).Except(new[] { "ec2:DeleteSnapshot" }).OrderBy(a => a));
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Rebundle.sln"))) return dir.FullName;
        throw new InvalidOperationException("Rebundle.sln not found above " + AppContext.BaseDirectory);
    }
}

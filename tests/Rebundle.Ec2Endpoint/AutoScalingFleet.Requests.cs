using System;
using System.Collections.Generic;
using System.Linq;
using System.Xml.Linq;

namespace Rebundle.Ec2Endpoint;

/// <summary>The Auto Scaling actions: checks and messages as AWS words them, then the change; Reconcile carries it out.</summary>
public sealed partial class AutoScalingFleet
{
    private XElement DescribeAutoScalingGroups(QueryRequest r)
    {
        var names = r.List("AutoScalingGroupNames.member");
        var filters = GroupFilters(r);
        // Unknown names are simply absent, as on AWS; groups come in name order.
        var matching = _groups
            .Where(g => names.Count == 0 || names.Contains(g.Name))
            .Where(g => filters.All(f => f.Passes(g)))
            .OrderBy(g => g.Name, StringComparer.Ordinal)
            .ToList();
        var (page, next) = Page(matching, r, 50, "asg");
        var instances = Bool(r, "IncludeInstances") ?? true;
        return Response(r.Action, List("AutoScalingGroups", page.Select(g => GroupXml(g, instances))), Leaf("NextToken", next));
    }

    /// <summary>Filters.member.N: tag-key, tag-value and tag:&lt;key&gt; (values are alternatives, filters all apply).</summary>
    private static List<(string Name, IReadOnlyList<string> Values, Func<AsgGroup, bool> Passes)> GroupFilters(QueryRequest r)
    {
        var filters = new List<(string, IReadOnlyList<string>, Func<AsgGroup, bool>)>();
        for (var n = 1; r.Get($"Filters.member.{n}.Name") is { } name; n++)
        {
            var values = r.List($"Filters.member.{n}.Values.member");
            Func<AsgGroup, bool> passes = name switch
            {
                "tag-key" => g => g.Tags.Any(t => values.Contains(t.Key)),
                "tag-value" => g => g.Tags.Any(t => values.Contains(t.Value)),
                _ when name.StartsWith("tag:", StringComparison.Ordinal) => g => g.Tags.Any(t => t.Key == name.Substring(4) && values.Contains(t.Value)),
                _ => throw Validation($"The filter '{name}' is not valid for Auto Scaling groups (the test endpoint models tag-key, tag-value and tag:<key>)."),
            };
            filters.Add((name, values, passes));
        }
        return filters;
    }

    private XElement UpdateAutoScalingGroup(QueryRequest r)
    {
        var g = Group(r, "AutoScalingGroup name not found - null");
        var min = NotNegative(r, "MinSize", Int(r, "MinSize") ?? g.Min);
        var max = NotNegative(r, "MaxSize", Int(r, "MaxSize") ?? g.Max);
        var asked = Int(r, "DesiredCapacity");
        if (max < min) throw Validation($"Max bound, {max}, must be greater than or equal to min bound, {min}");
        if (asked is { } d && (d < min || d > max)) throw Validation($"Desired capacity:{d} must be between the specified min size:{min} and max size:{max}");
        var template = LaunchTemplateOf(r);
        var healthCheckType = r.Get("HealthCheckType") ?? g.HealthCheckType;
        if (healthCheckType is not ("EC2" or "ELB"))
            throw Validation($"Health check type '{healthCheckType}' is not valid (the test endpoint models EC2 and ELB).");
        var grace = Int(r, "HealthCheckGracePeriod") is { } seconds ? TimeSpan.FromSeconds(NotNegative(r, "HealthCheckGracePeriod", seconds)) : g.HealthCheckGracePeriod;
        var cooldown = Int(r, "DefaultCooldown") is { } c ? NotNegative(r, "DefaultCooldown", c) : g.DefaultCooldown;

        // All checked: now the change, at once. Without DesiredCapacity, AWS moves it into the new bounds.
        var desired = asked ?? Math.Clamp(g.Desired, min, max);
        if (desired != g.Desired)
            NoteCapacityChange(g, $"a user request update of AutoScalingGroup constraints to min: {min}, max: {max}, desired: {desired} changing the desired capacity from {g.Desired} to {desired}.");
        (g.Min, g.Max, g.Desired, g.HealthCheckType, g.HealthCheckGracePeriod, g.DefaultCooldown) = (min, max, desired, healthCheckType, grace, cooldown);
        if (template is { } t) (g.LaunchTemplateId, g.LaunchTemplateName, g.Version) = (t.Template.Id, t.Template.Name, t.Version);
        if (Bool(r, "NewInstancesProtectedFromScaleIn") is { } protect) g.NewInstancesProtectedFromScaleIn = protect;
        return NoResult(r.Action);
    }

    /// <summary>LaunchTemplate.* of UpdateAutoScalingGroup: one of id and name, a version that exists ($Default when left out); null when not given.</summary>
    private (Ec2LaunchTemplate Template, string Version)? LaunchTemplateOf(QueryRequest r)
    {
        var id = r.Get("LaunchTemplate.LaunchTemplateId");
        var name = r.Get("LaunchTemplate.LaunchTemplateName");
        var version = r.Get("LaunchTemplate.Version");
        if (id == null && name == null && version == null) return null;
        if ((id == null) == (name == null)) throw Validation("Valid requests must contain either launchTemplateId or LaunchTemplateName");
        version ??= "$Default";
        var template = _ec2.LaunchTemplates.FirstOrDefault(t => id != null ? t.Id == id : t.Name == name)
            ?? throw Validation(id != null
                ? $"You must use a valid fully-formed launch template. The specified launch template, with template ID {id}, does not exist."
                : $"You must use a valid fully-formed launch template. The specified launch template, with template name {name}, does not exist.");
        if (version is not ("$Default" or "$Latest") && !(long.TryParse(version, out var number) && number > 0))
            throw Validation($"You must use a valid fully-formed launch template. The launch template version '{version}' is not valid: use $Default, $Latest or a version number.");
        if (template.Version(version) == null)
            throw Validation($"You must use a valid fully-formed launch template. The specified launch template version {version} of {template.Name} does not exist.");
        return (template, version);
    }

    private XElement SetDesiredCapacity(QueryRequest r)
    {
        var g = Group(r, "AutoScalingGroup name not found - null");
        var desired = Int(r, "DesiredCapacity") ?? throw Validation("1 validation error detected: Value null at 'desiredCapacity' failed to satisfy constraint: Member must not be null");
        if (desired > g.Max) throw Validation($"New SetDesiredCapacity value {desired} is above max value {g.Max} for the AutoScalingGroup.");
        if (desired < g.Min) throw Validation($"New SetDesiredCapacity value {desired} is below min value {g.Min} for the AutoScalingGroup.");
        // HonorCooldown, as the fake models it: refused while an activity runs or within DefaultCooldown after the last one ended.
        if (Bool(r, "HonorCooldown") == true && g.Activities.LastOrDefault() is { } last && (last.InProgress || Now < last.EndTime!.Value + TimeSpan.FromSeconds(g.DefaultCooldown)))
            throw ActivityInProgress(last.Id);
        if (desired != g.Desired)
            NoteCapacityChange(g, $"a user request explicitly set group desired capacity changing the desired capacity from {g.Desired} to {desired}.");
        g.Desired = desired;
        return NoResult(r.Action);
    }

    private XElement TerminateInstanceInAutoScalingGroup(QueryRequest r)
    {
        var id = Required(r, "InstanceId");
        var decrement = Bool(r, "ShouldDecrementDesiredCapacity")
            ?? throw Validation("1 validation error detected: Value null at 'shouldDecrementDesiredCapacity' failed to satisfy constraint: Member must not be null");
        var (g, instance) = _groups.SelectMany(g => g.Instances.Select(i => (g, i))).FirstOrDefault(p => p.i.Id == id && p.i.State != Asg.Terminated);
        if (instance == null) throw Validation($"Instance Id not found - No managed instance found for instance ID: {id}");
        // The fake's model of the race with the group's own activity: an instance still launching,
        // or already on its way out, is in an activity that blocks this call until it ends.
        if (Asg.IsLaunching(instance.State)) throw ActivityInProgress(instance.Launch!.Id);
        if (!Asg.IsLive(instance.State)) throw ActivityInProgress(instance.Termination?.Id ?? instance.Launch!.Id);
        if (decrement && g.Desired - 1 < g.Min)
            throw Validation($"Currently, desiredSize equals minSize ({g.Min}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.");
        var cause = $"At {CauseTime(Now)} instance {id} was taken out of service in response to a user request";
        cause += decrement ? $", shrinking the capacity from {g.Desired} to {g.Desired - 1}." : ".";
        if (decrement) g.Desired--;
        Terminate(g, instance, Now, cause);
        return Response(r.Action, ActivityXml(g, instance.Termination!, "Activity"));
    }

    private XElement SetInstanceProtection(QueryRequest r)
    {
        var ids = r.List("InstanceIds.member");
        if (ids.Count == 0) throw Validation("1 validation error detected: Value null at 'instanceIds' failed to satisfy constraint: Member must not be null");
        if (ids.Count > 50) throw Validation("1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 50");
        var g = Group(r, "AutoScalingGroup name not found - null");
        var protect = Bool(r, "ProtectedFromScaleIn")
            ?? throw Validation("1 validation error detected: Value null at 'protectedFromScaleIn' failed to satisfy constraint: Member must not be null");
        var instances = ids.Select(id => g.Instances.FirstOrDefault(i => i.Id == id && i.State != Asg.Terminated)
            ?? throw Validation($"The instance {id} is not part of Auto Scaling group {g.Name}.")).ToList();
        foreach (var instance in instances) instance.Protected = protect;
        return Response(r.Action);
    }

    private XElement Processes(QueryRequest r, bool suspend)
    {
        var g = Group(r, "AutoScalingGroup name not found - null");
        var named = r.List("ScalingProcesses.member");
        var unknown = named.Where(p => !Asg.Processes.Contains(p)).ToList();
        if (unknown.Count > 0)
            throw Validation($"Invalid scaling process name(s): {string.Join(", ", unknown)}. Valid names: {string.Join(", ", Asg.Processes)}.");
        // None named: every process, as AWS.
        var processes = named.Count == 0 ? Asg.Processes : named;
        if (suspend)
        {
            foreach (var process in processes.Where(p => !g.IsSuspended(p)))
                g.Suspended.Add((process, $"User suspended at {CauseTime(Now)}"));
        }
        else
        {
            g.Suspended.RemoveAll(s => processes.Contains(s.Process));
        }
        return NoResult(r.Action);
    }

    private XElement DescribeScalingActivities(QueryRequest r)
    {
        var ids = r.List("ActivityIds.member");
        if (ids.Count > 50) throw Validation("1 validation error detected: Value at 'activityIds' failed to satisfy constraint: Member must have length less than or equal to 50");
        var name = r.Get("AutoScalingGroupName");
        Bool(r, "IncludeDeletedGroups"); // checked only: groups are never deleted here
        // Newest first, as AWS lists them; an unknown group or id is simply absent.
        var matching = _groups
            .Where(g => name == null || g.Name == name)
            .SelectMany(g => g.Activities.Select((a, order) => (Group: g, Activity: a, Order: order)))
            .Where(p => ids.Count == 0 || ids.Contains(p.Activity.Id))
            .OrderByDescending(p => p.Activity.StartTime).ThenByDescending(p => p.Order)
            .ToList();
        var (page, next) = Page(matching, r, 100, "activity");
        return Response(r.Action, List("Activities", page.Select(p => ActivityXml(p.Group, p.Activity, "member"))), Leaf("NextToken", next));
    }

    private XElement DescribeLifecycleHooks(QueryRequest r)
    {
        var g = Group(r, null);
        var names = r.List("LifecycleHookNames.member");
        if (names.Count > 50) throw Validation("1 validation error detected: Value at 'lifecycleHookNames' failed to satisfy constraint: Member must have length less than or equal to 50");
        return Response(r.Action, List("LifecycleHooks", g.Hooks.Where(h => names.Count == 0 || names.Contains(h.Name)).Select(h => HookXml(g, h))));
    }

    private XElement CompleteLifecycleAction(QueryRequest r)
    {
        var g = Group(r, null);
        var hook = Required(r, "LifecycleHookName");
        var result = Required(r, "LifecycleActionResult");
        var instanceId = r.Get("InstanceId");
        var token = r.Get("LifecycleActionToken");
        if (instanceId == null && token == null) throw Validation("Either the instance ID or the lifecycle action token must be specified.");
        Complete(g, hook, instanceId, token, result);
        return Response(r.Action);
    }

    /// <summary>Ends an instance's wait on <paramref name="hookName"/> (by instance id or token) with <paramref name="result"/>.</summary>
    private void Complete(AsgGroup g, string hookName, string? instanceId, string? token, string result)
    {
        if (result is not (Asg.Continue or Asg.Abandon))
            throw Validation($"1 validation error detected: Value '{result}' at 'lifecycleActionResult' failed to satisfy constraint: Member must be CONTINUE or ABANDON");
        var wait = g.Instances
            .Where(i => instanceId == null || i.Id == instanceId)
            .SelectMany(i => i.Waits)
            .FirstOrDefault(w => w.Hook.Name == hookName && w.CompletedAt == null && Now < w.Deadline && (token == null || w.Token == token))
            ?? throw Validation(token != null ? $"No active Lifecycle Action found with token {token}" : $"No active Lifecycle Action found with instance ID {instanceId}");
        wait.Result = result;
        wait.CompletedAt = Now;
    }

    /// <summary>CreateOrUpdateTags / DeleteTags: Tags.member.N on groups (ResourceType auto-scaling-group).</summary>
    private XElement Tags(QueryRequest r, bool delete)
    {
        var tags = new List<(AsgGroup Group, AutoScalingTag Tag)>();
        for (var n = 1; r.Parameters.Keys.Any(k => k.StartsWith($"Tags.member.{n}.", StringComparison.Ordinal)); n++)
        {
            string? Get(string field) => r.Get($"Tags.member.{n}.{field}");
            var key = Get("Key") is { Length: > 0 and <= 128 } k ? k : throw Validation($"1 validation error detected: Value at 'tags.{n}.member.key' failed to satisfy constraint: Member must have length between 1 and 128");
            var value = Get("Value") ?? "";
            if (value.Length > 256) throw Validation($"1 validation error detected: Value at 'tags.{n}.member.value' failed to satisfy constraint: Member must have length less than or equal to 256");
            if (Get("ResourceType") != "auto-scaling-group") throw Validation($"Invalid resource type '{Get("ResourceType")}': tags are for ResourceType auto-scaling-group.");
            if (!delete && key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase)) throw Validation("Tag keys starting with 'aws:' are reserved for internal use");
            var name = Get("ResourceId") ?? throw Validation($"1 validation error detected: Value null at 'tags.{n}.member.resourceId' failed to satisfy constraint: Member must not be null");
            var group = _groups.FirstOrDefault(g => g.Name == name) ?? throw Validation($"AutoScalingGroup not found - AutoScaling Group {name} not found");
            tags.Add((group, new AutoScalingTag(key, value, Bool(r, $"Tags.member.{n}.PropagateAtLaunch") ?? false)));
        }
        if (tags.Count == 0) throw Validation("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null");
        foreach (var group in tags.Select(t => t.Group).Distinct())
        {
            var keys = group.Tags.Select(t => t.Key).Concat(tags.Where(t => t.Group == group).Select(t => t.Tag.Key)).Distinct().Count();
            if (!delete && keys > 50) throw new Ec2Error("LimitExceeded", $"The quota of 50 tags per Auto Scaling group would be exceeded for {group.Name}.", 400);
        }
        // Tags go to instances launched from now on (PropagateAtLaunch); running ones keep theirs, as on AWS.
        foreach (var (group, tag) in tags)
        {
            var at = group.Tags.FindIndex(t => t.Key == tag.Key);
            if (delete) { if (at >= 0) group.Tags.RemoveAt(at); }
            else if (at >= 0) group.Tags[at] = tag;
            else group.Tags.Add(tag);
        }
        return NoResult(r.Action);
    }

    /// <summary>The request's AutoScalingGroupName; unknown: ValidationError, worded as AWS words it for that action.</summary>
    private AsgGroup Group(QueryRequest r, string? notFound)
    {
        var name = Required(r, "AutoScalingGroupName");
        if (name.Length > 255) throw Validation("1 validation error detected: Value at 'autoScalingGroupName' failed to satisfy constraint: Member must have length less than or equal to 255");
        return _groups.FirstOrDefault(g => g.Name == name) ?? throw Validation(notFound ?? $"AutoScalingGroup name not found - AutoScalingGroup '{name}' not found");
    }

    /// <summary>The first sentence of the activities this change brings about (AWS's causes start with what the user did).</summary>
    private void NoteCapacityChange(AsgGroup g, string what)
    {
        g.CapacityCause = $"At {CauseTime(Now)} {what}";
        g.CapacityCauseAt = Now;
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Rebundle.Ec2Endpoint;

/// <summary>
/// EC2 Auto Scaling (Query API 2011-01-01) beside the EC2 fleet, as strict as the ELBv2 part:
/// requests signed for the credential scope service <c>autoscaling</c> come here. A group's
/// instances are real instances of the EC2 fleet (DescribeInstances and ELBv2 see them), launched
/// from the group's launch template and tagged aws:autoscaling:groupName. Nothing runs on a
/// timer: <see cref="Reconcile()"/>, under the fleet's one lock before every request (any service)
/// and every test accessor, replays what the groups did since the last look, event by event at
/// the times they happened (AutoScalingFleet.Lifecycle.cs), so states follow from timestamps and
/// not from how often someone asks. Requests: AutoScalingFleet.Requests.cs; XML: AutoScalingFleet.Xml.cs.
/// </summary>
public sealed partial class AutoScalingFleet
{
    public static readonly XNamespace Ns = "http://autoscaling.amazonaws.com/doc/2011-01-01/";
    public const string SigningName = "autoscaling";
    public const string ApiVersion = "2011-01-01";

    private readonly Ec2Fleet _ec2;
    private readonly List<AsgGroup> _groups = new();
    private readonly Dictionary<string, Operation> _operations;

    internal AutoScalingFleet(Ec2Fleet ec2)
    {
        _ec2 = ec2;
        _operations = Operations();
    }

    public AutoScalingFaults Faults { get; } = new();

    /// <summary>The most records one Describe* page holds, whatever MaxRecords asks (AWS: 100), so paging can be tested.</summary>
    public int MaxRecords { get; set; } = 100;

    /// <summary>How long a terminated instance stays listed as Terminated before it leaves the group's Instances.</summary>
    public TimeSpan TerminatedListedFor { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The wait before retrying a launch that failed at once (no instance: a missing image); doubles per failure in a row, at most 5 minutes.</summary>
    public TimeSpan LaunchRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    private DateTimeOffset Now => _ec2.Settings.Now();

    // ---- What tests and the seed set up (not requests, not logged) --------------------------

    /// <summary>
    /// A group launching from the template named <paramref name="launchTemplateName"/>, serving
    /// from the ELBv2 target groups named <paramref name="targetGroups"/>. With
    /// <paramref name="seedInService"/> its <paramref name="desired"/> instances exist already: in
    /// service for a day, registered and healthy; each also gets <paramref name="instanceTags"/>
    /// of its index (1-based), e.g. a Name. Without, the group launches them as AWS would.
    /// </summary>
    public AutoScalingGroupView AddGroup(string name, string launchTemplateName, string version = "$Default", int min = 1, int max = 1, int desired = 1,
        IEnumerable<string>? targetGroups = null, string healthCheckType = "EC2", TimeSpan? healthCheckGracePeriod = null,
        IEnumerable<AutoScalingTag>? tags = null, bool newInstancesProtectedFromScaleIn = false, bool seedInService = true,
        Func<int, IEnumerable<KeyValuePair<string, string>>>? instanceTags = null)
    {
        lock (_ec2.Gate)
        {
            Reconcile();
            if (_groups.Any(g => g.Name == name)) throw new ArgumentException($"An Auto Scaling group named {name} exists already.");
            var template = _ec2.LaunchTemplateNamed(launchTemplateName) ?? throw new ArgumentException($"There is no launch template named {launchTemplateName}.");
            if (template.Version(version) == null) throw new ArgumentException($"Launch template {launchTemplateName} has no version {version}.");
            if (min < 0 || min > desired || desired > max) throw new ArgumentException($"min {min} <= desired {desired} <= max {max} does not hold.");
            if (healthCheckType is not ("EC2" or "ELB")) throw new ArgumentException($"Health check type {healthCheckType}: EC2 or ELB.");
            var group = new AsgGroup
            {
                Name = name, CreatedAt = Now - (seedInService ? TimeSpan.FromDays(1) : TimeSpan.Zero),
                Arn = $"arn:aws:autoscaling:{_ec2.Settings.Region}:{Ec2Xml.OwnerId}:autoScalingGroup:{Guid.NewGuid()}:autoScalingGroupName/{name}",
                LaunchTemplateId = template.Id, LaunchTemplateName = template.Name, Version = version, Min = min, Max = max, Desired = desired,
                HealthCheckType = healthCheckType, HealthCheckGracePeriod = healthCheckGracePeriod ?? TimeSpan.Zero,
                NewInstancesProtectedFromScaleIn = newInstancesProtectedFromScaleIn,
            };
            var names = (targetGroups ?? Array.Empty<string>()).ToList();
            group.TargetGroupArns.AddRange(names.Select(_ec2.Elbv2.ArnOf));
            group.Tags.AddRange(tags ?? Array.Empty<AutoScalingTag>());
            if (seedInService)
            {
                for (var index = 1; index <= desired; index++) SeedInstance(group, index, instanceTags?.Invoke(index));
                // Before the group is listed: AddHealthyTargets reconciles, and the group is complete only now.
                foreach (var targetGroup in names) _ec2.Elbv2.AddHealthyTargets(targetGroup, group.Instances.Select(i => i.Id));
            }
            _groups.Add(group);
            Reconcile(); // unseeded: the group launches its desired capacity now
            return View(group);
        }
    }

    /// <summary>A lifecycle hook (<paramref name="transition"/>: launching, terminating, or AWS's autoscaling:EC2_INSTANCE_…) for instances entering it from now on.</summary>
    public void AddLifecycleHook(string group, string hookName, string transition, TimeSpan? heartbeatTimeout = null, string defaultResult = Asg.Abandon)
    {
        lock (_ec2.Gate)
        {
            Reconcile();
            var g = Named(group);
            var full = transition.ToLowerInvariant() switch
            {
                "launching" or "autoscaling:ec2_instance_launching" => Asg.LaunchingHook,
                "terminating" or "autoscaling:ec2_instance_terminating" => Asg.TerminatingHook,
                _ => throw new ArgumentException($"Lifecycle transition {transition}: launching or terminating."),
            };
            if (defaultResult is not (Asg.Continue or Asg.Abandon)) throw new ArgumentException($"Default result {defaultResult}: CONTINUE or ABANDON.");
            if (g.Hooks.Any(h => h.Name == hookName)) throw new ArgumentException($"Group {group} has a lifecycle hook named {hookName} already.");
            g.Hooks.Add(new AsgHook { Name = hookName, Transition = full, HeartbeatTimeout = heartbeatTimeout ?? TimeSpan.FromHours(1), DefaultResult = defaultResult });
        }
    }

    /// <summary>CompleteLifecycleAction as the instance's own script would send it; no active action is an ArgumentException with AWS's message.</summary>
    public void CompleteLifecycleAction(string group, string hookName, string instanceId, string result = Asg.Continue)
    {
        lock (_ec2.Gate)
        {
            Reconcile();
            try { Complete(Named(group), hookName, instanceId, null, result); }
            catch (Ec2Error e) { throw new ArgumentException(e.Message); }
            Reconcile();
        }
    }

    public AutoScalingGroupView Group(string name)
    {
        lock (_ec2.Gate)
        {
            Reconcile();
            return View(Named(name));
        }
    }

    public IReadOnlyList<AutoScalingGroupView> Groups
    {
        get
        {
            lock (_ec2.Gate)
            {
                Reconcile();
                return _groups.Select(View).ToList();
            }
        }
    }

    private static AutoScalingGroupView View(AsgGroup g) => new(
        g.Name, g.Arn, g.Min, g.Max, g.Desired, g.LaunchTemplateName, g.Version,
        g.Suspended.Select(s => s.Process).ToList(), g.NewInstancesProtectedFromScaleIn, g.Tags.ToList(),
        g.Instances.Select(i => new AutoScalingInstanceView(i.Id, i.State, i.Healthy ? "Healthy" : "Unhealthy", i.Protected, i.Version)).ToList(),
        Enumerable.Reverse(g.Activities).Select(a => new AutoScalingActivityView(a.Id, a.Description, a.Cause, a.StatusCode, a.StatusMessage, a.StartTime, a.EndTime, a.Progress)).ToList(),
        g.TargetGroupArns.ToList(), g.HealthCheckType);

    private AsgGroup Named(string name) => _groups.FirstOrDefault(g => g.Name == name) ?? throw new ArgumentException($"There is no Auto Scaling group named {name}.");

    // ---- Requests (the EC2 fleet's Handle calls this under its lock, after Reconcile) --------

    /// <summary>
    /// An action: its handler, whether the injected ScalingActivityInProgress / ResourceContention
    /// faults refuse it (the mutating calls a client retries on them), and the parameters it takes (numbered parts as N).
    /// </summary>
    private sealed record Operation(Func<QueryRequest, XElement> Run, bool TakesFaults, params string[] Parameters);

    private Dictionary<string, Operation> Operations() => new(StringComparer.Ordinal)
    {
        ["DescribeAutoScalingGroups"] = new(DescribeAutoScalingGroups, false, "AutoScalingGroupNames.member.N", "MaxRecords", "NextToken", "IncludeInstances",
            "Filters.member.N.Name", "Filters.member.N.Values.member.N"),
        ["UpdateAutoScalingGroup"] = new(UpdateAutoScalingGroup, true, "AutoScalingGroupName", "MinSize", "MaxSize", "DesiredCapacity", "DefaultCooldown",
            "LaunchTemplate.LaunchTemplateName", "LaunchTemplate.LaunchTemplateId", "LaunchTemplate.Version",
            "NewInstancesProtectedFromScaleIn", "HealthCheckType", "HealthCheckGracePeriod"),
        ["SetDesiredCapacity"] = new(SetDesiredCapacity, true, "AutoScalingGroupName", "DesiredCapacity", "HonorCooldown"),
        ["TerminateInstanceInAutoScalingGroup"] = new(TerminateInstanceInAutoScalingGroup, true, "InstanceId", "ShouldDecrementDesiredCapacity"),
        ["SetInstanceProtection"] = new(SetInstanceProtection, true, "InstanceIds.member.N", "AutoScalingGroupName", "ProtectedFromScaleIn"),
        ["SuspendProcesses"] = new(r => Processes(r, suspend: true), true, "AutoScalingGroupName", "ScalingProcesses.member.N"),
        ["ResumeProcesses"] = new(r => Processes(r, suspend: false), true, "AutoScalingGroupName", "ScalingProcesses.member.N"),
        ["DescribeScalingActivities"] = new(DescribeScalingActivities, false, "AutoScalingGroupName", "ActivityIds.member.N", "MaxRecords", "NextToken", "IncludeDeletedGroups"),
        ["DescribeLifecycleHooks"] = new(DescribeLifecycleHooks, false, "AutoScalingGroupName", "LifecycleHookNames.member.N"),
        ["CompleteLifecycleAction"] = new(CompleteLifecycleAction, false, "AutoScalingGroupName", "LifecycleHookName", "InstanceId", "LifecycleActionResult", "LifecycleActionToken"),
        ["CreateOrUpdateTags"] = new(r => Tags(r, delete: false), true, TagParameters),
        ["DeleteTags"] = new(r => Tags(r, delete: true), false, TagParameters),
    };

    private static readonly string[] TagParameters =
        { "Tags.member.N.ResourceId", "Tags.member.N.ResourceType", "Tags.member.N.Key", "Tags.member.N.Value", "Tags.member.N.PropagateAtLaunch" };

    private static readonly Regex NumberedPart = new(@"\.\d+(?=\.|$)");

    internal XElement Dispatch(QueryRequest r)
    {
        if (Faults.DeniedActions.Contains(r.Action))
            throw new Ec2Error("AccessDenied", $"User: arn:aws:iam::{Ec2Xml.OwnerId}:user/ttm-test is not authorized to perform: autoscaling:{r.Action} (denied by the test endpoint)", 403);
        if (r.Get("Version") != ApiVersion)
            throw new Ec2Error("InvalidAction", $"Could not find operation {r.Action} for version {r.Get("Version") ?? "NO_VERSION_SPECIFIED"}");
        if (!_operations.TryGetValue(r.Action, out var operation))
            throw new Ec2Error("InvalidAction", $"Could not find operation {r.Action} for version {ApiVersion} (the test endpoint does not model it).");
        // Stricter than AWS, which may ignore a parameter it does not know: a misspelt or unmodelled one is refused, so a client's mistake shows.
        foreach (var key in r.Parameters.Keys.Where(k => k is not ("Action" or "Version")))
            if (!operation.Parameters.Contains(NumberedPart.Replace(key, ".N")))
                throw Validation($"The parameter {key} is not recognized by {r.Action} (the test endpoint refuses parameters it does not model).");
        if (operation.TakesFaults) InjectFaults(r);
        var result = operation.Run(r);
        // What the change sets going (launches, terminations) starts at once, as the answer goes back.
        Reconcile();
        return result;
    }

    /// <summary>The injected ScalingActivityInProgress / ResourceContention faults, one per mutating call until used up.</summary>
    private void InjectFaults(QueryRequest r)
    {
        if (Faults.ScalingActivityInProgress > 0)
        {
            Faults.ScalingActivityInProgress--;
            var group = _groups.FirstOrDefault(g => g.Name == r.Get("AutoScalingGroupName"))
                ?? _groups.FirstOrDefault(g => g.Instances.Any(i => i.Id == r.Get("InstanceId")));
            throw ActivityInProgress(group?.Activities.LastOrDefault()?.Id ?? Guid.NewGuid().ToString());
        }
        if (Faults.ResourceContention > 0)
        {
            Faults.ResourceContention--;
            throw new Ec2Error("ResourceContention", "You already have a pending update to an Auto Scaling resource (for example, a group, instance, or load balancer).", 500);
        }
    }

    private static Ec2Error ActivityInProgress(string activityId) =>
        new("ScalingActivityInProgress", $"Scaling activity {activityId} is in progress and blocks this action.", 400);

    private static Ec2Error Validation(string message) => new("ValidationError", message, 400);

    /// <summary>Auto Scaling's error shape, as ELBv2's: <c>&lt;ErrorResponse&gt;&lt;Error&gt;&lt;Type&gt;Sender&lt;/Type&gt;&lt;Code&gt;…</c>.</summary>
    internal static XElement Error(string code, string message, int status) =>
        new(Ns + "ErrorResponse",
            E("Error", E("Type", status >= 500 ? "Receiver" : "Sender"), E("Code", code), E("Message", message)),
            E("RequestId", Guid.NewGuid().ToString()));

    // ---- Parameters as Auto Scaling checks them ---------------------------------------------

    /// <summary>A required parameter, refused as AWS's model validation words it (camelCase member name).</summary>
    private static string Required(QueryRequest r, string name) =>
        r.Get(name) is { Length: > 0 } value ? value : throw Validation($"1 validation error detected: Value null at '{Camel(name)}' failed to satisfy constraint: Member must not be null");

    private static int? Int(QueryRequest r, string name)
    {
        if (r.Get(name) is not { } text) return null;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Validation($"1 validation error detected: Value '{text}' at '{Camel(name)}' failed to satisfy constraint: Member must be an integer");
    }

    private static bool? Bool(QueryRequest r, string name) => r.Get(name) switch
    {
        null => null,
        { } text when text.Equals("true", StringComparison.OrdinalIgnoreCase) => true,
        { } text when text.Equals("false", StringComparison.OrdinalIgnoreCase) => false,
        { } text => throw Validation($"1 validation error detected: Value '{text}' at '{Camel(name)}' failed to satisfy constraint: Member must be a boolean"),
    };

    private static int NotNegative(QueryRequest r, string name, int value) =>
        value >= 0 ? value : throw Validation($"1 validation error detected: Value '{value}' at '{Camel(name)}' failed to satisfy constraint: Member must have value greater than or equal to 0");

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name.Substring(1);

    /// <summary>One page of <paramref name="all"/> by MaxRecords (1–100) / NextToken, never more than <see cref="MaxRecords"/>.</summary>
    private (List<T> Page, string? NextToken) Page<T>(IReadOnlyList<T> all, QueryRequest r, int defaultSize, string kind)
    {
        var asked = Int(r, "MaxRecords");
        if (asked is < 1 or > 100)
            throw Validation($"1 validation error detected: Value '{asked}' at 'maxRecords' failed to satisfy constraint: Member must have value {(asked < 1 ? "greater than or equal to 1" : "less than or equal to 100")}");
        var prefix = "ttm-" + kind + ":";
        var start = 0;
        if (r.Get("NextToken") is { } token)
        {
            // Opaque to the caller; a token of another listing, or made up, is refused.
            var text = Decode(token);
            if (text == null || !text.StartsWith(prefix, StringComparison.Ordinal) || !int.TryParse(text.Substring(prefix.Length), out start) || start < 0)
                throw new Ec2Error("InvalidNextToken", $"The token '{token}' is invalid.", 400);
        }
        var page = all.Skip(start).Take(Math.Min(asked ?? defaultSize, MaxRecords)).ToList();
        var next = start + page.Count < all.Count ? Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(prefix + (start + page.Count))) : null;
        return (page, next);
    }

    private static string? Decode(string token)
    {
        try { return System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(token)); }
        catch (FormatException) { return null; }
    }

    // ---- XML --------------------------------------------------------------------------------

    /// <summary>&lt;ActionResponse&gt;&lt;ActionResult&gt;…&lt;/ActionResult&gt;&lt;ResponseMetadata/&gt;; null result: an action with no output (ResponseMetadata only).</summary>
    private static XElement Response(string action, params object?[]? result) =>
        new(Ns + action + "Response",
            result == null ? null : new XElement(Ns + action + "Result", result.Where(c => c != null)),
            E("ResponseMetadata", E("RequestId", Guid.NewGuid().ToString())));

    private static XElement NoResult(string action) => Response(action, null);

    private static XElement Member(params object?[] content) => E("member", content);

    private static XElement List(string name, IEnumerable<XElement> members) => E(name, members.Cast<object?>().ToArray());

    private static XElement? Leaf(string name, object? value) => value == null ? null : E(name, value);

    private static XElement E(string name, params object?[] content) => new(Ns + name, content.Where(c => c != null).Select(c => c switch
    {
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        DateTimeOffset t => Ec2Xml.Time(t),
        _ => c,
    }));

    /// <summary>A time as activity causes write it: 2024-01-01T09:00:00Z.</summary>
    private static string CauseTime(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Xml.Linq;

namespace Rebundle.Ec2Endpoint;

/// <summary>
/// ELBv2 (API 2015-12-01) beside the EC2 fleet, as strict as the EC2 part: requests signed for
/// the credential scope service <c>elasticloadbalancing</c> come here (the one loopback URL
/// serves every service and routes by that scope). Target states follow AWS: a registered
/// target is <c>initial</c> until interval × healthy threshold has passed, then <c>healthy</c>;
/// <c>unhealthy</c> on demand (<see cref="SetUnhealthy"/>, or <see cref="Elbv2Faults.UnhealthyRegistrations"/>);
/// deregistered, or its instance terminated, it is <c>draining</c> for the deregistration delay,
/// then gone. Registering an instance that is not running is InvalidTarget; an unknown group
/// is TargetGroupNotFound. Runs under the EC2 fleet's lock, so instance states are consistent.
/// Auto Scaling groups register and deregister their instances here too, at the times they act
/// (RegisterAt, DeregisterAt), and read a target's health for their ELB health checks.
/// </summary>
public sealed class Elbv2Fleet
{
    public static readonly XNamespace Ns = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";
    public const string SigningName = "elasticloadbalancing";

    private readonly Ec2Fleet _ec2;
    private readonly List<Elbv2TargetGroup> _groups = new();
    private int _nextId = 0x100;

    internal Elbv2Fleet(Ec2Fleet ec2) => _ec2 = ec2;

    public Elbv2Faults Faults { get; } = new();

    /// <summary>The most target groups one DescribeTargetGroups page holds, whatever PageSize asks (AWS: 400).</summary>
    public int MaxPageSize { get; set; } = 400;

    private DateTimeOffset Now => _ec2.Settings.Now();

    // ---- What tests and the seed set up (not requests, not logged) --------------------------

    /// <summary>A target group named <paramref name="name"/>; its targets turn healthy after <paramref name="interval"/> × <paramref name="healthyThreshold"/>.</summary>
    public Elbv2TargetGroup AddTargetGroup(string name, TimeSpan? deregistrationDelay = null, TimeSpan? interval = null, int healthyThreshold = 5)
    {
        lock (_ec2.Gate)
        {
            if (_groups.Any(g => g.Name == name)) throw new ArgumentException($"A target group named {name} exists already.");
            var id = (_nextId++).ToString("x16", CultureInfo.InvariantCulture);
            var group = new Elbv2TargetGroup
            {
                Name = name, Arn = $"arn:aws:elasticloadbalancing:{_ec2.Settings.Region}:{Ec2Xml.OwnerId}:targetgroup/{name}/{id}",
                DeregistrationDelay = deregistrationDelay ?? TimeSpan.FromSeconds(300), HealthCheckInterval = interval ?? TimeSpan.FromSeconds(30), HealthyThreshold = healthyThreshold,
            };
            _groups.Add(group);
            return group;
        }
    }

    /// <summary>Registers instances as if long ago: healthy at once (the seed's servers already serve).</summary>
    public void AddHealthyTargets(string targetGroup, IEnumerable<string> instanceIds)
    {
        lock (_ec2.Gate)
        {
            _ec2.AutoScaling.Reconcile();
            var group = Named(targetGroup);
            foreach (var id in instanceIds) group.Targets.Add(new Elbv2Target { InstanceId = id, RegisteredAt = Now - TimeSpan.FromDays(1) });
        }
    }

    /// <summary>Makes a registered target fail (or pass again) its health checks: "unhealthy" from now on, until cleared.</summary>
    public void SetUnhealthy(string targetGroup, string instanceId, bool unhealthy = true)
    {
        lock (_ec2.Gate)
        {
            // The Auto Scaling groups first see the time before the change: an ELB health check finds it from now on.
            _ec2.AutoScaling.Reconcile();
            var target = Live(Named(targetGroup)).FirstOrDefault(t => t.InstanceId == instanceId)
                ?? throw new ArgumentException($"{instanceId} is not registered in target group {targetGroup}.");
            if (!unhealthy) target.UnhealthySince = null;
            else target.UnhealthySince ??= Now;
        }
    }

    public IReadOnlyList<Elbv2TargetGroup> TargetGroups
    {
        get
        {
            lock (_ec2.Gate)
            {
                _ec2.AutoScaling.Reconcile();
                return _groups.ToList();
            }
        }
    }

    /// <summary>Each target's ELBv2 state now, by instance id (gone ones left out), as DescribeTargetHealth would answer.</summary>
    public IReadOnlyDictionary<string, string> StatesOf(string targetGroup)
    {
        lock (_ec2.Gate)
        {
            _ec2.AutoScaling.Reconcile(); // the groups register and deregister their instances
            return Live(Named(targetGroup)).ToDictionary(t => t.InstanceId, t => StateOf(Named(targetGroup), t).State);
        }
    }

    // ---- Requests (the EC2 fleet's Handle calls this under its lock) --------------------------

    internal XElement Dispatch(QueryRequest r)
    {
        if (Faults.DeniedActions.Contains(r.Action))
            throw new Ec2Error("AccessDenied", $"User: arn:aws:iam::{Ec2Xml.OwnerId}:user/ttm-test is not authorized to perform: elasticloadbalancing:{r.Action} (denied by the test endpoint)", 403);
        if (r.Get("Version") != "2015-12-01")
            throw new Ec2Error("InvalidAction", $"Could not find operation {r.Action} for version {r.Get("Version") ?? "NO_VERSION_SPECIFIED"}");
        return r.Action switch
        {
            "DescribeTargetGroups" => DescribeTargetGroups(r),
            "DescribeTargetGroupAttributes" => Response(r.Action, new XElement(Ns + "Attributes",
                Member(E("Key", "deregistration_delay.timeout_seconds"), E("Value", (int)ByArn(r).DeregistrationDelay.TotalSeconds)),
                Member(E("Key", "stickiness.enabled"), E("Value", "false")),
                Member(E("Key", "stickiness.type"), E("Value", "lb_cookie")))),
            "DescribeTargetHealth" => DescribeTargetHealth(r),
            "RegisterTargets" => RegisterTargets(r),
            "DeregisterTargets" => DeregisterTargets(r),
            _ => throw new Ec2Error("InvalidAction", $"Could not find operation {r.Action} for version 2015-12-01 (the test endpoint does not model it)."),
        };
    }

    // ---- What Auto Scaling does through ELBv2 (under the lock, at the times its groups act) ----

    internal string ArnOf(string targetGroup) => Named(targetGroup).Arn;

    /// <summary>Registers as RegisterTargets would, at <paramref name="at"/> (an unknown group, one since deleted, is skipped).</summary>
    internal void RegisterAt(string arn, string instanceId, DateTimeOffset at)
    {
        if (_groups.FirstOrDefault(g => g.Arn == arn) is not { } group) return;
        var existing = Live(group).LastOrDefault(t => t.InstanceId == instanceId);
        if (existing != null && LeavingAt(existing) == null) return; // registered already
        if (existing != null) group.Targets.Remove(existing);
        Add(group, instanceId, at);
    }

    /// <summary>Deregisters at <paramref name="at"/>; when the target has drained, or null when it was not registered (or drained already).</summary>
    internal DateTimeOffset? DeregisterAt(string arn, string instanceId, DateTimeOffset at)
    {
        if (_groups.FirstOrDefault(g => g.Arn == arn) is not { } group) return null;
        var target = group.Targets.LastOrDefault(t => t.InstanceId == instanceId && t.RegisteredAt <= at);
        if (target == null) return null;
        var leaving = LeavingAt(target);
        if (leaving == null || leaving > at) leaving = target.DeregisteredAt = at;
        var drained = leaving.Value + group.DeregistrationDelay;
        return drained > at ? drained : null;
    }

    /// <summary>Since when the instance's registration fails its health checks ("unhealthy"), or null while it passes, drains or is not registered.</summary>
    internal DateTimeOffset? UnhealthySince(string arn, string instanceId) =>
        _groups.FirstOrDefault(g => g.Arn == arn)?.Targets.LastOrDefault(t => t.InstanceId == instanceId) is { } target && LeavingAt(target) == null
            ? target.UnhealthySince
            : null;

    /// <summary>ELBv2's error shape: <c>&lt;ErrorResponse&gt;&lt;Error&gt;&lt;Type&gt;Sender&lt;/Type&gt;&lt;Code&gt;…</c>.</summary>
    internal static XElement Error(string code, string message, int status) =>
        new(Ns + "ErrorResponse",
            E("Error", E("Type", status >= 500 ? "Receiver" : "Sender"), E("Code", code), E("Message", message)),
            E("RequestId", Guid.NewGuid().ToString()));

    private XElement DescribeTargetGroups(QueryRequest r)
    {
        var names = r.List("Names.member");
        var arns = r.List("TargetGroupArns.member");
        if (names.Count > 20) throw new Ec2Error("ValidationError", "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 20");
        IEnumerable<Elbv2TargetGroup> matched = _groups;
        if (names.Count > 0)
        {
            if (names.Any(n => _groups.All(g => g.Name != n))) throw NotFound();
            matched = _groups.Where(g => names.Contains(g.Name));
        }
        if (arns.Count > 0)
        {
            if (arns.Any(a => _groups.All(g => g.Arn != a))) throw NotFound();
            matched = matched.Where(g => arns.Contains(g.Arn));
        }
        var all = matched.ToList();
        var size = r.Int("PageSize") ?? 400;
        if (size < 1 || size > 400) throw new Ec2Error("ValidationError", $"1 validation error detected: Value '{size}' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400");
        var start = 0;
        if (r.Get("Marker") is { } marker && (!marker.StartsWith("ttm-tg:", StringComparison.Ordinal) || !int.TryParse(marker.Substring(7), out start)))
            throw new Ec2Error("ValidationError", $"Invalid marker '{marker}'");
        var page = all.Skip(start).Take(Math.Min(size, MaxPageSize)).ToList();
        var next = start + page.Count < all.Count ? "ttm-tg:" + (start + page.Count) : null;
        return Response(r.Action,
            new XElement(Ns + "TargetGroups", page.Select(g => Member(
                E("TargetGroupArn", g.Arn), E("TargetGroupName", g.Name), E("Protocol", "HTTP"), E("Port", g.Port), E("VpcId", "vpc-0ttm00000000000001"),
                E("HealthCheckProtocol", "HTTP"), E("HealthCheckPort", "traffic-port"), E("HealthCheckEnabled", "true"),
                E("HealthCheckIntervalSeconds", Math.Max(1, (int)Math.Round(g.HealthCheckInterval.TotalSeconds))), E("HealthCheckTimeoutSeconds", 5),
                E("HealthyThresholdCount", g.HealthyThreshold), E("UnhealthyThresholdCount", 2), E("HealthCheckPath", "/"),
                E("Matcher", E("HttpCode", "200")), new XElement(Ns + "LoadBalancerArns"), E("TargetType", "instance"),
                E("ProtocolVersion", "HTTP1"), E("IpAddressType", "ipv4")))),
            next == null ? null : E("NextMarker", next));
    }

    private XElement DescribeTargetHealth(QueryRequest r)
    {
        var group = ByArn(r);
        var asked = Ids(r, required: false);
        var live = Live(group);
        // No Targets: every registered (or draining) target. Targets given: those, an unregistered one "unused".
        var described = asked.Count == 0
            ? live.Select(t => (t.InstanceId, StateOf(group, t)))
            : asked.Select(id => (id, live.FirstOrDefault(t => t.InstanceId == id) is { } t
                ? StateOf(group, t)
                : ("unused", (string?)"Target.NotRegistered", (string?)"Target is not registered to the target group")));
        return Response(r.Action, new XElement(Ns + "TargetHealthDescriptions", described.Select(d => Member(
            E("Target", E("Id", d.Item1), E("Port", group.Port)),
            E("HealthCheckPort", group.Port.ToString(CultureInfo.InvariantCulture)),
            E("TargetHealth", E("State", d.Item2.Item1), d.Item2.Item2 == null ? null : E("Reason", d.Item2.Item2), d.Item2.Item3 == null ? null : E("Description", d.Item2.Item3)))).ToArray()));
    }

    private XElement RegisterTargets(QueryRequest r)
    {
        var group = ByArn(r);
        var ids = Ids(r, required: true);
        var invalid = ids.Where(id => _ec2.InstanceById(id) is not { } i || _ec2.StateNow(i) != "running").ToList();
        if (invalid.Count > 0)
            throw new Ec2Error("InvalidTarget", $"The following targets are not in a running state and cannot be registered: {string.Join(", ", invalid.Select(i => "'" + i + "'"))}");
        foreach (var id in ids)
        {
            var existing = Live(group).FirstOrDefault(t => t.InstanceId == id);
            if (existing != null && existing.DeregisteredAt == null) continue; // already registered: nothing changes
            if (existing != null) group.Targets.Remove(existing); // draining: registering again starts over
            Add(group, id, Now);
        }
        return Response(r.Action);
    }

    /// <summary>A new registration at <paramref name="at"/>; the unhealthy-registrations fault makes it fail its health checks from the start.</summary>
    private void Add(Elbv2TargetGroup group, string instanceId, DateTimeOffset at)
    {
        var unhealthy = Faults.UnhealthyRegistrations > 0;
        if (unhealthy) Faults.UnhealthyRegistrations--;
        group.Targets.Add(new Elbv2Target { InstanceId = instanceId, RegisteredAt = at, UnhealthySince = unhealthy ? at : null });
    }

    private XElement DeregisterTargets(QueryRequest r)
    {
        var group = ByArn(r);
        foreach (var id in Ids(r, required: true))
        {
            var target = Live(group).FirstOrDefault(t => t.InstanceId == id);
            if (target != null && target.DeregisteredAt == null) target.DeregisteredAt = Now; // not registered: nothing changes
        }
        return Response(r.Action);
    }

    /// <summary>ELBv2's state, reason and description for a target now.</summary>
    private (string State, string? Reason, string? Description) StateOf(Elbv2TargetGroup group, Elbv2Target target)
    {
        if (LeavingAt(target) is { } leaving)
            return ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress");
        if (target.Unhealthy) return ("unhealthy", "Target.FailedHealthChecks", "Health checks failed");
        if (Now < target.RegisteredAt + group.TimeToHealthy) return ("initial", "Elb.InitialHealthChecking", "Initial health checks in progress");
        return ("healthy", null, null);
    }

    /// <summary>When the target started draining: deregistered, or its instance terminated (ELBv2 deregisters it then). Null while it serves.</summary>
    private DateTimeOffset? LeavingAt(Elbv2Target target)
    {
        if (target.DeregisteredAt is { } at) return at;
        var instance = _ec2.InstanceById(target.InstanceId);
        if (instance == null) return target.RegisteredAt;
        return instance.TerminateRequestedAt ?? (_ec2.StateNow(instance) == "terminated" ? instance.FailsAt : null);
    }

    /// <summary>The group's targets that are not gone yet; gone ones (drained) are dropped.</summary>
    private List<Elbv2Target> Live(Elbv2TargetGroup group)
    {
        group.Targets.RemoveAll(t => LeavingAt(t) is { } at && Now >= at + group.DeregistrationDelay);
        return group.Targets.ToList();
    }

    private List<string> Ids(QueryRequest r, bool required)
    {
        var ids = r.Parameters.Keys.Where(k => k.StartsWith("Targets.member.", StringComparison.Ordinal) && k.EndsWith(".Id", StringComparison.Ordinal))
            .OrderBy(k => int.Parse(k.Split('.')[2], CultureInfo.InvariantCulture)).Select(k => r.Parameters[k]).ToList();
        if (required && ids.Count == 0) throw new Ec2Error("ValidationError", "1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null");
        if (r.Parameters.Keys.Any(k => k.StartsWith("Targets.member.", StringComparison.Ordinal) && k.EndsWith(".AvailabilityZone", StringComparison.Ordinal)))
            throw new Ec2Error("ValidationError", "The test endpoint models instance targets only (no AvailabilityZone).");
        return ids;
    }

    private Elbv2TargetGroup ByArn(QueryRequest r)
    {
        var arn = r.Get("TargetGroupArn") ?? throw new Ec2Error("ValidationError", "1 validation error detected: Value null at 'targetGroupArn' failed to satisfy constraint: Member must not be null");
        return _groups.FirstOrDefault(g => g.Arn == arn) ?? throw NotFound();
    }

    private Elbv2TargetGroup Named(string name) => _groups.FirstOrDefault(g => g.Name == name) ?? throw new ArgumentException($"There is no target group named {name}.");

    private static Ec2Error NotFound() => new("TargetGroupNotFound", "One or more target groups not found", 400);

    private static XElement Response(string action, params object?[] result) =>
        new(Ns + action + "Response",
            new XElement(Ns + action + "Result", result.Where(c => c != null)),
            E("ResponseMetadata", E("RequestId", Guid.NewGuid().ToString())));

    private static XElement Member(params object?[] content) => E("member", content);

    private static XElement E(string name, params object?[] content) => new(Ns + name, content.Where(c => c != null).Select(c => c is int i ? i.ToString(CultureInfo.InvariantCulture) : c));
}

/// <summary>ELBv2 failures to inject (throttling is the EC2 faults' counter, shared: see Ec2Fleet.Handle).</summary>
public sealed class Elbv2Faults
{
    /// <summary>The next N targets registered fail their health checks ("unhealthy", never healthy) until cleared.</summary>
    public int UnhealthyRegistrations { get; set; }

    /// <summary>ELBv2 actions the caller's policy does not allow: 403 AccessDenied.</summary>
    public HashSet<string> DeniedActions { get; } = new(StringComparer.Ordinal);
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Rebundle.Ec2Endpoint;

/// <summary>
/// The endpoint's whole state: instances, images, launch templates with versions, tags,
/// injected faults and the request log. Every request runs under one lock.
/// </summary>
public sealed partial class Ec2Fleet
{
    private readonly object _gate = new();
    private readonly List<Ec2Instance> _instances = new();
    private readonly List<Ec2Image> _images = new();
    private readonly List<Ec2LaunchTemplate> _templates = new();
    private readonly List<LoggedRequest> _log = new();
    private readonly List<(string Action, Action Then)> _hooks = new();
    private readonly List<string> _snapshots = new();
    private long _nextId = 0x1000;

    public Ec2Fleet(Ec2Settings? settings = null)
    {
        Settings = settings ?? new Ec2Settings();
        Elbv2 = new Elbv2Fleet(this);
        AutoScaling = new AutoScalingFleet(this);
    }

    /// <summary>ELBv2 target groups, served on the same URL to requests signed for elasticloadbalancing (Elbv2Fleet.cs).</summary>
    public Elbv2Fleet Elbv2 { get; }

    /// <summary>Auto Scaling groups, served on the same URL to requests signed for autoscaling (AutoScalingFleet.cs).</summary>
    public AutoScalingFleet AutoScaling { get; }

    /// <summary>The one lock every request runs under; the ELBv2 and Auto Scaling parts share it.</summary>
    internal object Gate => _gate;

    /// <summary>The instance with this id, visible or not yet (ELBv2 sees instances EC2's Describe* may not list yet); the caller holds the lock.</summary>
    internal Ec2Instance? InstanceById(string id) => _instances.FirstOrDefault(i => i.Id == id);

    public Ec2Settings Settings { get; }

    public Ec2Faults Faults { get; } = new();

    private DateTimeOffset Now => Settings.Now();

    /// <summary>When an object made now becomes visible to Describe* calls.</summary>
    private DateTimeOffset VisibleFromNow => Now + Settings.VisibilityDelay;

    private bool Seen(DateTimeOffset visibleAt) => Now >= visibleAt;

    // ---- What tests read ------------------------------------------------------------------

    public IReadOnlyList<LoggedRequest> Requests
    {
        get { lock (_gate) return _log.ToList(); }
    }

    public void ClearRequests()
    {
        lock (_gate) _log.Clear();
    }

    public int CountOf(string action) => Requests.Count(r => r.Action == action);

    /// <summary>Every instance, the Auto Scaling groups' brought up to now first.</summary>
    public IReadOnlyList<Ec2Instance> Instances
    {
        get
        {
            lock (_gate)
            {
                AutoScaling.Reconcile();
                return _instances.ToList();
            }
        }
    }

    public IReadOnlyList<Ec2Image> Images
    {
        get { lock (_gate) return _images.ToList(); }
    }

    /// <summary>EBS snapshot ids that exist (one behind each image until deleted with it).</summary>
    public IReadOnlyList<string> Snapshots
    {
        get { lock (_gate) return _snapshots.ToList(); }
    }

    public IReadOnlyList<Ec2LaunchTemplate> LaunchTemplates
    {
        get { lock (_gate) return _templates.ToList(); }
    }

    public Ec2LaunchTemplate? LaunchTemplateNamed(string name)
    {
        lock (_gate) return _templates.FirstOrDefault(t => t.Name == name);
    }

    /// <summary>The instance's state name now ("pending", "running", "terminated", …).</summary>
    public string StateOf(Ec2Instance instance)
    {
        lock (_gate)
        {
            AutoScaling.Reconcile();
            return StateNow(instance);
        }
    }

    /// <summary>StateOf for the fleet's own parts, which hold the lock and are brought up to now already.</summary>
    internal string StateNow(Ec2Instance instance) => instance.StateAt(Now, Settings.ShutdownTime).Name;

    // ---- What tests and the seed set up (not logged: these are not requests) ----------------

    /// <param name="sharesSnapshotOf">An image whose EBS snapshot this one uses too (as CopyImage or RegisterImage of one snapshot makes).</param>
    public Ec2Image AddImage(string name, bool available = true, IEnumerable<KeyValuePair<string, string>>? tags = null, Ec2Image? sharesSnapshotOf = null, DateTimeOffset? createdAt = null)
    {
        lock (_gate)
        {
            var image = new Ec2Image { Id = NewId("ami"), Name = name, CreatedAt = createdAt ?? Now, ReadyAt = available ? Now : Now + Settings.ImageTime, SnapshotId = sharesSnapshotOf?.SnapshotId ?? NewSnapshot() };
            image.Tags.Set(tags ?? Array.Empty<KeyValuePair<string, string>>());
            _images.Add(image);
            return image;
        }
    }

    public Ec2LaunchTemplate AddLaunchTemplate(string name, IReadOnlyDictionary<string, string> data, IEnumerable<KeyValuePair<string, string>> tags)
    {
        lock (_gate)
        {
            var template = new Ec2LaunchTemplate { Id = NewId("lt"), Name = name, CreatedAt = Now };
            template.Versions.Add(new Ec2TemplateVersion { Number = 1, CreatedAt = Now, Data = data });
            template.Tags.Set(tags);
            _templates.Add(template);
            return template;
        }
    }

    public Ec2Instance AddInstance(string imageId, IEnumerable<KeyValuePair<string, string>> tags, string? launchTemplateId = null, bool running = true)
    {
        lock (_gate)
        {
            // A seeded running instance has been up for a day: its status checks passed long ago.
            var instance = NewInstance(imageId, "t3.small", null, launchTemplateId, "1", null, NewId("r"), running ? Now - TimeSpan.FromDays(1) : Now + Settings.BootTime, null);
            instance.Tags.Set(tags);
            _instances.Add(instance);
            return instance;
        }
    }

    /// <summary>Sets a tag on an instance, image or launch template, as another writer (a console user, another machine) would.</summary>
    public void SetTag(string resourceId, string key, string value)
    {
        lock (_gate) TagsOf(resourceId).Set(new[] { new KeyValuePair<string, string>(key, value) });
    }

    /// <summary>
    /// Runs <paramref name="then"/> once, right after the next successful <paramref name="action"/>
    /// is carried out and before its answer goes back: a race with another writer, on cue.
    /// </summary>
    public void AfterNext(string action, Action then)
    {
        lock (_gate) _hooks.Add((action, then));
    }

    // ---- Requests ---------------------------------------------------------------------------

    /// <summary>Answers one Query request: status and XML body. Logs it.</summary>
    public (int Status, string Body) Handle(QueryRequest request, SignedRequest signed)
    {
        lock (_gate)
        {
            // Whatever the service, the Auto Scaling groups are brought up to now first: their instances are EC2's and ELBv2's too.
            AutoScaling.Reconcile();
            if (IsStsAction(request.Action)) return HandleSts(request, signed);
            var service = SigV4Check.ServiceOf(signed);
            if (service == Elbv2Fleet.SigningName) return HandleQueryService(request, signed, service, Elbv2.Dispatch, Elbv2Fleet.Error);
            if (service == AutoScalingFleet.SigningName) return HandleQueryService(request, signed, service, AutoScaling.Dispatch, AutoScalingFleet.Error);
            int status;
            string body;
            string? errorCode = null;
            try
            {
                SigV4Check.Verify(signed, Settings);
                CheckFilterLimit(request);
                InjectThrottle(request.Action);
                CheckPermission(request);
                var response = Dispatch(request);
                RunHook(request.Action);
                LoseResponse(request.Action);
                status = 200;
                body = Serialize(response);
            }
            catch (Ec2Error e)
            {
                status = e.Status;
                errorCode = e.Code;
                body = Serialize(Ec2Xml.Error(e.Code, e.Message));
            }
            Log(request, status, errorCode, signed);
            return (status, body);
        }
    }

    private void Log(QueryRequest request, int status, string? errorCode, SignedRequest? signed = null, string service = "ec2") =>
        _log.Add(new LoggedRequest(Now, request.Action, request.Parameters, status, errorCode, signed == null ? null : SigV4Check.AccessKeyOf(signed), service));

    /// <summary>
    /// A request for another Query service on this URL (ELBv2, Auto Scaling): signature checked
    /// for its scope, then the shared faults (throttling answered as those services do: 400
    /// Throttling "Rate exceeded"; lost answers), then the service's own dispatch; errors in its
    /// own shape; logged under its signing name.
    /// </summary>
    private (int Status, string Body) HandleQueryService(QueryRequest request, SignedRequest signed, string service,
        Func<QueryRequest, XElement> dispatch, Func<string, string, int, XElement> error)
    {
        int status;
        string body;
        string? errorCode = null;
        try
        {
            SigV4Check.Verify(signed, Settings, service);
            if (Faults.ThrottleNext > 0 && (Faults.ThrottleAction == null || Faults.ThrottleAction == request.Action))
            {
                Faults.ThrottleNext--;
                throw new Ec2Error("Throttling", "Rate exceeded", 400);
            }
            var response = dispatch(request);
            RunHook(request.Action);
            LoseResponse(request.Action);
            status = 200;
            body = Serialize(response);
        }
        catch (Ec2Error e)
        {
            status = e.Status;
            errorCode = e.Code;
            body = Serialize(error(e.Code, e.Message, e.Status));
        }
        Log(request, status, errorCode, signed, service);
        return (status, body);
    }

    private static string Serialize(XElement element) =>
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + element.ToString(SaveOptions.DisableFormatting);

    /// <summary>EC2 counts the values of all of one call's filters together against a single limit.</summary>
    private void CheckFilterLimit(QueryRequest request)
    {
        var values = request.Filters().Sum(f => f.Values.Count);
        if (values > Settings.MaxFilterValues)
            throw new Ec2Error("FilterLimitExceeded", $"The maximum number of filter values specified on a single call is {Settings.MaxFilterValues} (this call has {values}).");
    }

    /// <summary>
    /// IAM as EC2 applies it: a denied action is UnauthorizedOperation, with or without DryRun;
    /// an allowed DryRun is DryRunOperation (HTTP 412) and changes nothing.
    /// </summary>
    private void CheckPermission(QueryRequest request)
    {
        if (Faults.DeniedActions.Contains(request.Action))
            throw new Ec2Error("UnauthorizedOperation", $"You are not authorized to perform this operation. User: arn:aws:iam::{Ec2Xml.OwnerId}:user/ttm-test is not authorized to perform: ec2:{request.Action} (denied by the test endpoint).", 403);
        if (request.Bool("DryRun"))
            throw new Ec2Error("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412);
    }

    private void InjectThrottle(string action)
    {
        if (Faults.ThrottleNext <= 0 || (Faults.ThrottleAction != null && Faults.ThrottleAction != action)) return;
        Faults.ThrottleNext--;
        throw new Ec2Error("RequestLimitExceeded", "Request limit exceeded.", 503);
    }

    private void RunHook(string action)
    {
        var at = _hooks.FindIndex(h => h.Action == action);
        if (at < 0) return;
        var hook = _hooks[at].Then;
        _hooks.RemoveAt(at);
        hook();
    }

    private void LoseResponse(string action)
    {
        if (Faults.LoseResponses <= 0 || (Faults.LoseAction != null && Faults.LoseAction != action)) return;
        Faults.LoseResponses--;
        throw new Ec2Error("InternalError", "An internal error has occurred (the test endpoint did the work and dropped the answer).", 500);
    }

    private XElement Dispatch(QueryRequest r) => r.Action switch
    {
        "DescribeRegions" => DescribeRegions(r),
        "DescribeInstances" => DescribeInstances(r),
        "DescribeInstanceStatus" when Settings.ReportsStatusChecks => DescribeInstanceStatus(r),
        "RunInstances" => RunInstances(r),
        "TerminateInstances" => TerminateInstances(r),
        "CreateTags" => CreateTags(r),
        "DeleteTags" => DeleteTags(r),
        "CreateImage" => CreateImage(r),
        "DescribeImages" => DescribeImages(r),
        "DeregisterImage" => DeregisterImage(r),
        "CreateLaunchTemplate" => CreateLaunchTemplate(r),
        "CreateLaunchTemplateVersion" => CreateLaunchTemplateVersion(r),
        "ModifyLaunchTemplate" => ModifyLaunchTemplate(r),
        "DescribeLaunchTemplates" => DescribeLaunchTemplates(r),
        "DescribeLaunchTemplateVersions" => DescribeLaunchTemplateVersions(r),
        "DeleteLaunchTemplate" => DeleteLaunchTemplate(r),
        _ => throw new Ec2Error("InvalidAction", $"The action {r.Action} is not valid for this web service (the test endpoint does not model it)."),
    };

    // ---- Shared helpers ---------------------------------------------------------------------

    private string NewSnapshot()
    {
        var id = NewId("snap");
        _snapshots.Add(id);
        return id;
    }

    private string NewId(string prefix) => prefix + "-" + (_nextId++).ToString("x", CultureInfo.InvariantCulture).PadLeft(17, '0');

    private Ec2Instance NewInstance(string imageId, string instanceType, string? keyName, string? templateId, string? templateVersion, string? clientToken, string reservationId, DateTimeOffset? runningAt, DateTimeOffset? failsAt, bool impaired = false, DateTimeOffset? launchTime = null)
    {
        var number = _instances.Count + 10;
        return new Ec2Instance
        {
            Id = NewId("i"), ReservationId = reservationId, ImageId = imageId, InstanceType = instanceType, KeyName = keyName,
            LaunchTemplateId = templateId, LaunchTemplateVersion = templateVersion, ClientToken = clientToken, LaunchTime = launchTime ?? Now,
            PrivateIp = $"10.0.{number / 250 % 250}.{number % 250 + 1}", RunningAt = runningAt, FailsAt = failsAt, Impaired = impaired,
        };
    }

    /// <summary>One page of <paramref name="all"/> by MaxResults / NextToken, never larger than MaxPageSize.</summary>
    private (List<T> Page, string? NextToken) Page<T>(IReadOnlyList<T> all, QueryRequest r, int min, int max)
    {
        var asked = r.Int("MaxResults");
        if (asked != null && (asked < min || asked > max))
            throw new Ec2Error("InvalidParameterValue", $"Value ({asked}) for parameter maxResults is invalid. Expecting a value between {min} and {max}.");
        var start = 0;
        if (r.Get("NextToken") is { } token)
        {
            var text = SafeDecode(token);
            if (text == null || !text.StartsWith("ttm-page:", StringComparison.Ordinal) || !int.TryParse(text.Substring(9), out start))
                throw new Ec2Error("InvalidParameterValue", $"The NextToken '{token}' is not valid.");
        }
        var size = Math.Min(asked ?? int.MaxValue, Settings.MaxPageSize);
        var page = all.Skip(start).Take(size).ToList();
        var next = start + page.Count < all.Count ? Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("ttm-page:" + (start + page.Count))) : null;
        return (page, next);
    }

    private static string? SafeDecode(string token)
    {
        try { return System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(token)); }
        catch (FormatException) { return null; }
    }

    /// <summary>
    /// True when the object passes every filter: values of one filter are alternatives, filters
    /// all apply. <paramref name="valuesOf"/> gives the object's values for a filter name, or
    /// null when the filter is not one this kind of object has.
    /// </summary>
    private static bool Passes(IReadOnlyList<Ec2Filter> filters, Func<string, IEnumerable<string>?> valuesOf, string what)
    {
        foreach (var filter in filters)
        {
            var values = valuesOf(filter.Name) ?? throw new Ec2Error("InvalidParameterValue", $"The filter '{filter.Name}' is invalid for {what} (or not modelled by the test endpoint).");
            if (!values.Any(v => filter.Values.Any(pattern => Wildcard(v, pattern)))) return false;
        }
        return true;
    }

    private static IEnumerable<string>? TagValues(string filterName, TagSet tags)
    {
        if (filterName == "tag-key") return tags.All.Select(t => t.Key);
        if (filterName.StartsWith("tag:", StringComparison.Ordinal))
        {
            var value = tags[filterName.Substring(4)];
            return value == null ? Array.Empty<string>() : new[] { value };
        }
        return null;
    }

    public static bool Wildcard(string value, string pattern) =>
        Regex.IsMatch(value, "^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.Singleline);
}

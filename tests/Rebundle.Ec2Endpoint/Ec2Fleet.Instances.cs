using System;
using System.Collections.Generic;
using System.Linq;
using System.Xml.Linq;
using static Rebundle.Ec2Endpoint.Ec2Xml;

namespace Rebundle.Ec2Endpoint;

/// <summary>Instances: DescribeInstances, RunInstances, TerminateInstances, CreateTags, DeleteTags; and DescribeRegions.</summary>
public sealed partial class Ec2Fleet
{
    private XElement DescribeRegions(QueryRequest r) =>
        Response("DescribeRegions", Items("regionInfo", new[] { Settings.Region }.Select(region =>
            (object?)E("item", E("regionName", region), E("regionEndpoint", "ec2." + region + ".amazonaws.com"), E("optInStatus", "opt-in-not-required")))));

    private XElement DescribeInstances(QueryRequest r)
    {
        var ids = r.List("InstanceId");
        if (ids.Count > 0 && r.Get("MaxResults") != null)
            throw new Ec2Error("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults");
        var visible = _instances.Where(i => Seen(i.VisibleAt)).ToList();
        var missing = ids.Where(id => visible.All(i => i.Id != id)).ToList();
        if (missing.Count > 0)
            throw new Ec2Error("InvalidInstanceID.NotFound", $"The instance IDs '{string.Join(", ", missing)}' do not exist");

        var filters = r.Filters();
        var now = Now;
        var matching = visible
            .Where(i => ids.Count == 0 || ids.Contains(i.Id))
            .Where(i => Passes(filters, name => InstanceValues(i, name, now), "instances"))
            .ToList();
        var (page, next) = Page(matching, r, 5, 1000);
        var reservations = page.GroupBy(i => i.ReservationId).Select(g => (object?)E("item",
            E("reservationId", g.Key), E("ownerId", OwnerId), E("groupSet"),
            Items("instancesSet", g.Select(i => (object?)Instance(i, now, Settings.ShutdownTime, Settings.Region)))));
        return Response("DescribeInstances", Items("reservationSet", reservations), Leaf("nextToken", next));
    }

    /// <summary>Status checks of running instances (EC2 leaves the others out unless IncludeAllInstances).</summary>
    private XElement DescribeInstanceStatus(QueryRequest r)
    {
        var ids = r.List("InstanceId");
        if (ids.Count > 0 && r.Get("MaxResults") != null)
            throw new Ec2Error("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults");
        var filters = r.Filters();
        var now = Now;
        var matching = _instances
            .Where(i => Seen(i.VisibleAt))
            .Where(i => ids.Count == 0 || ids.Contains(i.Id))
            .Where(i => r.Bool("IncludeAllInstances") || (i.StateAt(now, Settings.ShutdownTime).Name == "running" && i.StatusReportedAt(now, Settings.StatusReportDelay)))
            .Where(i => Passes(filters, name => name switch
            {
                "instance-id" => new[] { i.Id },
                "instance-state-name" => new[] { i.StateAt(now, Settings.ShutdownTime).Name },
                "instance-status.status" or "system-status.status" => new[] { Checks(i, now) },
                _ => null,
            }, "instance status"))
            .ToList();
        var (page, next) = Page(matching, r, 5, 1000);
        return Response("DescribeInstanceStatus", Items("instanceStatusSet", page.Select(i =>
        {
            var state = i.StateAt(now, Settings.ShutdownTime);
            var checks = state.Name == "running" ? Checks(i, now) : "not-applicable";
            XElement Summary(string name) => E(name, E("status", checks),
                Items("details", new object?[] { E("item", E("name", "reachability"), E("status", checks switch { "ok" => "passed", "impaired" => "failed", "insufficient-data" => "insufficient-data", _ => "initializing" })) }));
            return (object?)E("item",
                E("instanceId", i.Id),
                E("availabilityZone", Settings.Region + "a"),
                E("instanceState", E("code", state.Code), E("name", state.Name)),
                Summary("systemStatus"),
                Summary("instanceStatus"));
        })), Leaf("nextToken", next));
    }

    private string Checks(Ec2Instance instance, DateTimeOffset now) =>
        instance.StatusChecksAt(now, Settings.StatusCheckTime, Settings.RebootTime, Settings.InsufficientDataTime);

    private IEnumerable<string>? InstanceValues(Ec2Instance instance, string filter, DateTimeOffset now) => filter switch
    {
        "instance-id" => new[] { instance.Id },
        "instance-state-name" => new[] { instance.StateAt(now, Settings.ShutdownTime).Name },
        "image-id" => new[] { instance.ImageId },
        "reservation-id" => new[] { instance.ReservationId },
        _ => TagValues(filter, instance.Tags),
    };

    private XElement RunInstances(QueryRequest r)
    {
        // A retried request with the same client token gets the same reservation, not a second one.
        var token = r.Get("ClientToken");
        var earlier = token == null ? new List<Ec2Instance>() : _instances.Where(i => i.ClientToken == token).ToList();
        if (earlier.Count > 0) return RunInstancesResponse(earlier);

        var min = r.Int("MinCount") ?? throw new Ec2Error("MissingParameter", "The request must contain the parameter MinCount.");
        var max = r.Int("MaxCount") ?? throw new Ec2Error("MissingParameter", "The request must contain the parameter MaxCount.");
        if (min < 1 || max < min)
            throw new Ec2Error("InvalidParameterValue", "MinCount must be at least 1 and MaxCount at least MinCount.");

        IReadOnlyDictionary<string, string> data = new Dictionary<string, string>();
        Ec2LaunchTemplate? template = null;
        string? version = null;
        if (r.Get("LaunchTemplate.LaunchTemplateId") != null || r.Get("LaunchTemplate.LaunchTemplateName") != null)
        {
            template = FindTemplate(r.Get("LaunchTemplate.LaunchTemplateId"), r.Get("LaunchTemplate.LaunchTemplateName"));
            version = r.Get("LaunchTemplate.Version") ?? "$Default";
            var chosen = template.Version(version) ?? throw new Ec2Error("InvalidLaunchTemplateId.VersionNotFound", $"Could not find launch template version {version} of {template.Name}.");
            version = chosen.Number.ToString();
            data = chosen.Data;
        }

        string? Setting(string key) => r.Get(key) ?? (data.TryGetValue(key, out var v) ? v : null);
        var imageId = Setting("ImageId") ?? throw new Ec2Error("MissingParameter", "The request must contain the parameter ImageId (directly or in the launch template).");
        var image = _images.FirstOrDefault(i => i.Id == imageId) ?? throw new Ec2Error("InvalidAMIID.NotFound", $"The image id '[{imageId}]' does not exist");
        if (image.StateAt(Now).State != "available")
            throw new Ec2Error("InvalidAMIID.Unavailable", $"The image id '[{imageId}]' is not available (it is {image.StateAt(Now).State}).");

        var reservation = NewId("r");
        var launched = new List<Ec2Instance>();
        for (var n = 0; n < max; n++)
        {
            var (runningAt, failsAt, impaired) = LaunchOutcome(Now);
            var instance = NewInstance(imageId, Setting("InstanceType") ?? "t3.micro", Setting("KeyName"), template?.Id, version, token, reservation, runningAt, failsAt, impaired);
            instance.VisibleAt = VisibleFromNow;
            instance.Tags.Set(r.TagsFor("instance"));
            _instances.Add(instance);
            launched.Add(instance);
        }
        return RunInstancesResponse(launched);
    }

    /// <summary>How an instance launched at <paramref name="at"/> will fare: it boots, unless the next launch fault says it stalls, fails or runs impaired.</summary>
    private (DateTimeOffset? RunningAt, DateTimeOffset? FailsAt, bool Impaired) LaunchOutcome(DateTimeOffset at)
    {
        if (Faults.StallLaunches > 0) { Faults.StallLaunches--; return (null, null, false); }
        if (Faults.FailLaunches > 0) { Faults.FailLaunches--; return (null, at + Settings.BootTime, false); }
        if (Faults.ImpairLaunches > 0) { Faults.ImpairLaunches--; return (at + Settings.BootTime, null, true); }
        return (at + Settings.BootTime, null, false);
    }

    private XElement RunInstancesResponse(IReadOnlyList<Ec2Instance> launched) =>
        Response("RunInstances",
            E("reservationId", launched[0].ReservationId), E("ownerId", OwnerId), E("groupSet"),
            Items("instancesSet", launched.Select(i => (object?)Instance(i, Now, Settings.ShutdownTime, Settings.Region))));

    private XElement TerminateInstances(QueryRequest r)
    {
        var ids = r.List("InstanceId");
        if (ids.Count == 0) throw new Ec2Error("MissingParameter", "The request must contain the parameter InstanceId.");
        var missing = ids.Where(id => _instances.All(i => i.Id != id)).ToList();
        if (missing.Count > 0)
            throw new Ec2Error("InvalidInstanceID.NotFound", $"The instance IDs '{string.Join(", ", missing)}' do not exist");
        var items = new List<object?>();
        foreach (var instance in ids.Select(id => _instances.First(i => i.Id == id)))
        {
            var before = instance.StateAt(Now, Settings.ShutdownTime);
            if (before.Name != "terminated" && before.Name != "shutting-down") instance.TerminateRequestedAt = Now;
            var after = instance.StateAt(Now, Settings.ShutdownTime);
            items.Add(E("item", E("instanceId", instance.Id),
                E("currentState", E("code", after.Code), E("name", after.Name)),
                E("previousState", E("code", before.Code), E("name", before.Name))));
        }
        return Response("TerminateInstances", Items("instancesSet", items));
    }

    private XElement CreateTags(QueryRequest r)
    {
        var resources = r.List("ResourceId");
        var tags = r.Tags();
        if (resources.Count == 0 || tags.Count == 0)
            throw new Ec2Error("MissingParameter", "CreateTags needs ResourceId.N and Tag.N.");
        // EC2's limits: keys up to 128 characters, values up to 256.
        foreach (var tag in tags.Where(t => t.Key.Length > 128 || t.Value.Length > 256))
            throw new Ec2Error("InvalidParameterValue", $"Tag {tag.Key}: a key may have at most 128 characters and a value at most 256.");
        var sets = resources.Select(TagsOf).ToList();
        foreach (var set in sets) set.Set(tags);
        return Response("CreateTags", E("return", true));
    }

    /// <summary>
    /// As EC2: a Tag.N.Key alone deletes that key whatever its value; with Tag.N.Value (even
    /// empty) only when the value matches; no Tag at all deletes every tag of the resources.
    /// </summary>
    private XElement DeleteTags(QueryRequest r)
    {
        var resources = r.List("ResourceId");
        if (resources.Count == 0)
            throw new Ec2Error("MissingParameter", "DeleteTags needs ResourceId.N.");
        var keys = r.TagKeys();
        var sets = resources.Select(TagsOf).ToList();
        foreach (var set in sets)
        {
            if (keys.Count == 0) set.Clear();
            foreach (var (key, value) in keys) set.Remove(key, value);
        }
        return Response("DeleteTags", E("return", true));
    }

    // As EC2: an instance launched a moment ago can be unknown to CreateTags until it shows (eventual consistency).
    private TagSet TagsOf(string id) =>
        _instances.FirstOrDefault(i => i.Id == id) is { } instance
            ? Seen(instance.VisibleAt) ? instance.Tags : throw new Ec2Error("InvalidInstanceID.NotFound", $"The instance ID '{id}' does not exist")
            : _images.FirstOrDefault(i => i.Id == id)?.Tags ??
              _templates.FirstOrDefault(t => t.Id == id)?.Tags ??
              throw new Ec2Error(id.StartsWith("lt-", StringComparison.Ordinal) ? "InvalidLaunchTemplateId.NotFound" : "InvalidID", $"The ID '{id}' is not valid");
}

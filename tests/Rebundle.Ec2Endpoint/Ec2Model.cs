using System;
using System.Collections.Generic;
using System.Linq;

namespace Rebundle.Ec2Endpoint;

/// <summary>Tags in the order they were set; setting a key again replaces its value.</summary>
public sealed class TagSet
{
    private readonly List<KeyValuePair<string, string>> _tags = new();

    public IReadOnlyList<KeyValuePair<string, string>> All => _tags;

    public string? this[string key] => _tags.FirstOrDefault(t => t.Key == key).Value;

    public bool Has(string key) => _tags.Any(t => t.Key == key);

    public void Set(IEnumerable<KeyValuePair<string, string>> tags)
    {
        foreach (var tag in tags)
        {
            var at = _tags.FindIndex(t => t.Key == tag.Key);
            if (at >= 0) _tags[at] = tag;
            else _tags.Add(tag);
        }
    }

    /// <summary>DeleteTags for one key: removes it when <paramref name="value"/> is null (any value) or equals its value.</summary>
    public void Remove(string key, string? value) =>
        _tags.RemoveAll(t => t.Key == key && (value == null || t.Value == value));

    public void Clear() => _tags.Clear();
}

/// <summary>
/// An instance. Its state follows from timestamps (no timers): pending until
/// <see cref="RunningAt"/>, terminated after a failed launch at <see cref="FailsAt"/>,
/// shutting-down for a while after a terminate request.
/// </summary>
public sealed class Ec2Instance
{
    public string Id { get; init; } = "";
    public string ReservationId { get; init; } = "";
    public string ImageId { get; init; } = "";
    public string InstanceType { get; init; } = "t3.micro";
    public string? KeyName { get; init; }
    public string? LaunchTemplateId { get; init; }
    public string? LaunchTemplateVersion { get; init; }
    public string PrivateIp { get; init; } = "";
    public string? ClientToken { get; init; }
    public DateTimeOffset LaunchTime { get; init; }

    /// <summary>When Describe* calls start to see it (EC2 is eventually consistent); seeded objects are seen at once.</summary>
    public DateTimeOffset VisibleAt { get; set; } = DateTimeOffset.MinValue;
    public TagSet Tags { get; } = new();

    /// <summary>When it starts running; null when it never will (a stalled launch).</summary>
    public DateTimeOffset? RunningAt { get; init; }

    /// <summary>When a launch that fails ends in terminated with a Server.InternalError reason.</summary>
    public DateTimeOffset? FailsAt { get; init; }

    public DateTimeOffset? TerminateRequestedAt { get; set; }

    /// <summary>Status checks fail once it runs (a replacement that boots but never becomes healthy).</summary>
    public bool Impaired { get; init; }

    /// <summary>When CreateImage (without NoReboot) last rebooted it; null when it never did.</summary>
    public DateTimeOffset? RebootedAt { get; set; }

    /// <summary>
    /// The instance and system status checks of a running instance: "initializing" for
    /// <paramref name="checkTime"/> after it starts running, then "insufficient-data" for
    /// <paramref name="insufficientData"/>, then "ok" (or "impaired"). A reboot takes them back
    /// through the same steps after <paramref name="rebootTime"/>; the instance state stays
    /// "running" throughout, as on EC2.
    /// </summary>
    public string StatusChecksAt(DateTimeOffset now, TimeSpan checkTime, TimeSpan rebootTime = default, TimeSpan insufficientData = default)
    {
        if (Impaired) return RunningAt is { } booted && now < booted + checkTime ? "initializing" : "impaired";
        string? Since(DateTimeOffset start) =>
            now < start ? null : now < start + checkTime ? "initializing" : now < start + checkTime + insufficientData ? "insufficient-data" : null;
        if (RunningAt is { } running && Since(running) is { } afterBoot) return afterBoot;
        if (RebootedAt is { } rebooted && Since(rebooted + rebootTime) is { } afterReboot) return afterReboot;
        if (RebootedAt is { } down && now >= down && now < down + rebootTime) return "initializing";
        return "ok";
    }

    /// <summary>Whether DescribeInstanceStatus reports it yet: EC2 leaves a new instance out for a while after it runs.</summary>
    public bool StatusReportedAt(DateTimeOffset now, TimeSpan delay) => RunningAt is { } running && now >= running + delay;

    public (string Name, int Code, string? ReasonCode, string? ReasonMessage) StateAt(DateTimeOffset now, TimeSpan shutdownTime)
    {
        if (TerminateRequestedAt is { } asked)
            return now < asked + shutdownTime
                ? ("shutting-down", 32, "Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown")
                : ("terminated", 48, "Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown");
        if (FailsAt is { } fails && now >= fails)
            return ("terminated", 48, "Server.InternalError", "Server.InternalError: Internal error on launch");
        if (RunningAt is { } running && now >= running)
            return ("running", 16, null, null);
        return ("pending", 0, null, null);
    }
}

/// <summary>An AMI made by CreateImage (or seeded). Pending until <see cref="ReadyAt"/>, then available or failed.</summary>
public sealed class Ec2Image
{
    public string Id { get; init; } = "";
    public string Name { get; init; } = "";
    public string? Description { get; init; }
    public string? SourceInstanceId { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset ReadyAt { get; init; }

    /// <summary>When Describe* calls start to see it (EC2 is eventually consistent); seeded objects are seen at once.</summary>
    public DateTimeOffset VisibleAt { get; set; } = DateTimeOffset.MinValue;
    public bool Fails { get; init; }
    public TagSet Tags { get; } = new();

    /// <summary>The EBS snapshot behind the image's root device.</summary>
    public string SnapshotId { get; init; } = "";

    /// <summary>How long before <see cref="ReadyAt"/> the image shows "transient" instead of "pending".</summary>
    public TimeSpan Transient { get; init; }

    public (string State, string? ReasonCode, string? ReasonMessage) StateAt(DateTimeOffset now) =>
        now < ReadyAt - Transient ? ("pending", null, null)
        : now < ReadyAt ? ("transient", null, null)
        : Fails ? ("failed", "Server.InternalError", "The snapshot of the root volume failed (injected by the test endpoint).")
        : ("available", null, null);
}

/// <summary>One version of a launch template: its launch data kept as the request sent it.</summary>
public sealed class Ec2TemplateVersion
{
    public long Number { get; init; }
    public string? Description { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public string? ClientToken { get; init; }

    /// <summary>When Describe* calls start to see it (EC2 is eventually consistent); seeded objects are seen at once.</summary>
    public DateTimeOffset VisibleAt { get; set; } = DateTimeOffset.MinValue;

    /// <summary><c>LaunchTemplateData.*</c> parameters without the prefix, e.g. <c>ImageId</c>, <c>SecurityGroupId.1</c>.</summary>
    public IReadOnlyDictionary<string, string> Data { get; init; } = new Dictionary<string, string>();
}

public sealed class Ec2LaunchTemplate
{
    public string Id { get; init; } = "";
    public string Name { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public string? ClientToken { get; init; }
    public long DefaultVersion { get; set; } = 1;

    /// <summary>When Describe* calls start to see it (EC2 is eventually consistent); seeded objects are seen at once.</summary>
    public DateTimeOffset VisibleAt { get; set; } = DateTimeOffset.MinValue;
    public List<Ec2TemplateVersion> Versions { get; } = new();
    public TagSet Tags { get; } = new();

    public long LatestVersion => Versions.Max(v => v.Number);

    public Ec2TemplateVersion? Version(string selector) => selector switch
    {
        "$Default" => Versions.FirstOrDefault(v => v.Number == DefaultVersion),
        "$Latest" => Versions.FirstOrDefault(v => v.Number == LatestVersion),
        _ => long.TryParse(selector, out var number) ? Versions.FirstOrDefault(v => v.Number == number) : null,
    };
}

/// <summary>One request the endpoint answered, for tests to assert on.</summary>
/// <param name="AccessKey">The access key the request was signed with (null when unsigned).</param>
public sealed record LoggedRequest(DateTimeOffset At, string Action, IReadOnlyDictionary<string, string> Parameters, int Status, string? ErrorCode, string? AccessKey = null, string Service = "ec2")
{
    /// <summary>Anything but a Describe* call or a DryRun changes the fleet (for SSM and S3 also their Get* and List* reads).</summary>
    public bool IsMutating => !Action.StartsWith("Describe", StringComparison.Ordinal) && !IsDryRun
        && !(Service is "ssm" or "s3" && (Action.StartsWith("Get", StringComparison.Ordinal) || Action.StartsWith("List", StringComparison.Ordinal)));

    /// <summary>A permission check (DryRun=true): answered DryRunOperation or UnauthorizedOperation, nothing changed.</summary>
    public bool IsDryRun => Parameters.TryGetValue("DryRun", out var dryRun) && string.Equals(dryRun, "true", StringComparison.OrdinalIgnoreCase);
}

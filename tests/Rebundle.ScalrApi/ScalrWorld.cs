using System;
using System.Collections.Generic;
using System.Linq;
using Rebundle.Naming;

namespace Rebundle.ScalrApi;

public sealed class FarmRecord
{
    public int Id { get; init; }
    public string Name { get; init; } = "";
    /// <summary>Scalr's farm status; the scaling engine works only on running farms.</summary>
    public string Status { get; set; } = "running";
}

public sealed class FarmRoleRecord
{
    public int Id { get; init; }
    public int FarmId { get; init; }
    public string Alias { get; init; } = "";
    public int RoleId { get; set; }
    public int MinInstances { get; set; } = 1;
    public int MaxInstances { get; set; } = 3;
}

public sealed class RoleRecord
{
    public int Id { get; init; }
    public string Name { get; init; } = "";
    public string OsId { get; init; } = "ubuntu-14-04";
    public int CategoryId { get; init; } = 1;
    public List<string> BuiltinAutomation { get; init; } = new() { "chef" };
    public string Description { get; init; } = "";
    public DateTimeOffset Added { get; init; }
    /// <summary>Scalr image ids, one per cloud location.</summary>
    public List<string> ImageIds { get; } = new();
}

public sealed class ImageRecord
{
    public string Id { get; init; } = "";
    public string Name { get; init; } = "";
    public string CloudImageId { get; init; } = "";
    public string CloudLocation { get; init; } = "";
    public string OsId { get; init; } = "ubuntu-14-04";
    public DateTimeOffset Added { get; init; }
}

public sealed class ServerRecord
{
    public string Id { get; init; } = "";
    public string CloudServerId { get; init; } = "";
    public int FarmId { get; init; }
    public int FarmRoleId { get; init; }
    public int Index { get; init; }
    public string ImageId { get; init; } = "";
    public DateTimeOffset Launched { get; init; }
    public DateTimeOffset? TerminateRequested { get; set; }
    /// <summary>Its launch fails (fault injection): Scalr has no "failed" status; the server ends terminated without ever running.</summary>
    public bool WillFail { get; init; }
    /// <summary>It never comes up (fault injection): it stays pending until terminated.</summary>
    public bool NeverBoots { get; init; }
    /// <summary>Scalr's launchReason: an API request, or the scaling engine's.</summary>
    public string LaunchReason { get; init; } = "API Request";
}

/// <summary>
/// The whole fleet of one environment, in memory. Server states are computed from
/// timestamps and the clock (no background threads), so a test clock drives them.
/// </summary>
public sealed class ScalrWorld
{
    private readonly ScalrApiOptions _options;
    private int _nextId = 100;
    private int _nextImage = 1;
    private IReadOnlyDictionary<(string, string, int), string> _instances = new Dictionary<(string, string, int), string>();

    private readonly ScalingEngine _scaling;

    public ScalrWorld(ScalrApiOptions options)
    {
        _options = options;
        _scaling = new ScalingEngine(this, options.ScalingInterval, options.Clock());
    }

    public object Gate { get; } = new();
    public List<FarmRecord> Farms { get; } = new();
    public List<FarmRoleRecord> FarmRoles { get; } = new();
    public List<RoleRecord> Roles { get; } = new();
    public List<ImageRecord> Images { get; } = new();
    public List<ServerRecord> Servers { get; } = new();

    /// <summary>Launches still to fail (fault injection).</summary>
    public int FailingLaunches { get; set; }

    /// <summary>Launches still to stall (fault injection): those servers stay pending for ever.</summary>
    public int StallingLaunches { get; set; }

    /// <summary>The EC2 endpoint that owns the instances, or null to make instance ids up.</summary>
    public Ec2Link? Ec2 { get; set; }

    public DateTimeOffset Now => _options.Clock();

    public int NextId() => _nextId++;

    /// <summary>What the scaling engine did, oldest first (docs/scalr.md, Scaling).</summary>
    public IReadOnlyList<ScalingEvent> ScalingEvents => _scaling.Events.ToList();

    /// <summary>Runs the scaling engine's ticks due by now; the server calls it before every request.</summary>
    public void CatchUpScaling() => _scaling.CatchUp(Now);

    public string Status(ServerRecord server) => Status(server, Now);

    public string Status(ServerRecord server, DateTimeOffset now)
    {
        if (server.TerminateRequested is { } asked)
            return now >= asked + _options.TerminateDelay ? "terminated" : "pending_terminate";
        if (server.NeverBoots) return "pending";
        if (now >= server.Launched + _options.BootDelay) return server.WillFail ? "terminated" : "running";
        return now >= server.Launched + _options.BootDelay / 2 ? "initializing" : "pending";
    }

    public ImageRecord AddImage(string name, string? cloudImageId = null, string? location = null, string osId = "ubuntu-14-04", DateTimeOffset? added = null)
    {
        var n = _nextImage++;
        var image = new ImageRecord
        {
            Id = $"5c0e{n:x4}-0000-4000-8000-{n:x12}",
            Name = name,
            CloudImageId = cloudImageId ?? $"ami-{n + 0x5ca1ab1e0000L:x17}",
            CloudLocation = location ?? _options.Region,
            OsId = osId,
            Added = added ?? Now,
        };
        Images.Add(image);
        return image;
    }

    public RoleRecord AddRole(string name, ImageRecord? image, DateTimeOffset? added = null)
    {
        var role = new RoleRecord { Id = NextId(), Name = name, Added = added ?? Now };
        if (image != null) role.ImageIds.Add(image.Id);
        Roles.Add(role);
        return role;
    }

    /// <summary>A role as Scalr could hold one made long ago: no category, no os (what the client must not copy).</summary>
    public RoleRecord AddRoleWithout(string name)
    {
        var role = new RoleRecord { Id = NextId(), Name = name, Added = Now, OsId = "", CategoryId = 0 };
        Roles.Add(role);
        return role;
    }

    /// <summary>Live servers Scalr counts against maxInstances: running and pending ones.</summary>
    public int Live(FarmRoleRecord farmRole) =>
        Servers.Count(s => s.FarmRoleId == farmRole.Id && Status(s) is "pending_launch" or "pending" or "initializing" or "running");

    public ServerRecord Launch(FarmRoleRecord farmRole, DateTimeOffset? at = null, string? existingInstance = null, string? reason = null)
    {
        var role = Roles.First(r => r.Id == farmRole.RoleId);
        var image = Images.FirstOrDefault(i => role.ImageIds.Contains(i.Id));
        var taken = Servers.Where(s => s.FarmRoleId == farmRole.Id && Status(s, at ?? Now) != "terminated").Select(s => s.Index).ToHashSet();
        var index = Enumerable.Range(1, taken.Count + 1).First(i => !taken.Contains(i));
        var willFail = FailingLaunches > 0;
        if (willFail) FailingLaunches--;
        var neverBoots = !willFail && StallingLaunches > 0;
        if (neverBoots) StallingLaunches--;
        var farm = Farms.First(f => f.Id == farmRole.FarmId);
        var instanceId = existingInstance
            ?? Ec2?.Run(image?.CloudImageId ?? "", farm.Name, farmRole.Alias, role.Name, index)
            ?? "i-" + Guid.NewGuid().ToString("N")[..17];
        var server = new ServerRecord
        {
            Id = Guid.NewGuid().ToString(),
            CloudServerId = instanceId,
            FarmId = farmRole.FarmId,
            FarmRoleId = farmRole.Id,
            Index = index,
            ImageId = image?.Id ?? "",
            Launched = at ?? Now,
            WillFail = willFail,
            NeverBoots = neverBoots,
            LaunchReason = reason ?? "API Request",
        };
        Servers.Add(server);
        return server;
    }

    /// <summary>Starts a server's termination (pending_terminate, then terminated), its instance's too.</summary>
    public void RequestTerminate(ServerRecord server, DateTimeOffset? at = null)
    {
        server.TerminateRequested = at ?? Now;
        Ec2?.Terminate(server.CloudServerId);
    }

    /// <summary>
    /// The runbook's fleet (<see cref="RunbookFleet"/>, the one description the Sandbox and the
    /// EC2 endpoint seed from too) as Scalr farms, farm roles, roles and images.
    /// </summary>
    public void SeedRunbook()
    {
        var seed = RunbookFleet.Default;
        var longAgo = Now - RunbookFleet.Age;
        // With EC2 behind us, use the images and instances its runbook seed made (same fleet).
        var amis = Ec2?.ImagesByName() ?? new Dictionary<string, string>();
        _instances = Ec2?.TaggedInstances() ?? new Dictionary<(string, string, int), string>();
        var images = new Dictionary<string, ImageRecord>();
        var roles = new Dictionary<string, RoleRecord>();
        foreach (var role in seed.Roles)
        {
            if (!images.TryGetValue(role.Image, out var image))
                image = images[role.Image] = AddImage(role.Image, amis.TryGetValue(role.Image, out var ami) ? ami : null, added: longAgo);
            roles[role.Name] = AddRole(role.Name, image, longAgo);
        }

        foreach (var farm in seed.Farms)
        {
            var record = AddFarm(farm.Name);
            foreach (var farmRole in farm.FarmRoles) AddFarmRole(record, farmRole.Alias, roles[farmRole.Role], farmRole.Count, longAgo);
        }
    }

    private FarmRecord AddFarm(string name)
    {
        var farm = new FarmRecord { Id = NextId(), Name = name };
        Farms.Add(farm);
        return farm;
    }

    private void AddFarmRole(FarmRecord farm, string alias, RoleRecord role, int count, DateTimeOffset launched)
    {
        // Room above the count for launch-first recycles of up to two servers at once.
        var farmRole = new FarmRoleRecord { Id = NextId(), FarmId = farm.Id, Alias = alias, RoleId = role.Id, MinInstances = count, MaxInstances = count + 2 };
        FarmRoles.Add(farmRole);
        for (var i = 1; i <= count; i++)
            Launch(farmRole, launched, _instances.TryGetValue((farm.Name, alias, i), out var id) ? id : null);
    }
}

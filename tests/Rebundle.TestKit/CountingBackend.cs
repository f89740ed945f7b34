using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Runbook;

namespace Rebundle.TestKit;

/// <summary>
/// Passes every call to a real Sandbox and counts launches and terminations, so a test can
/// see how many replacements were in flight at once. Our own interface, not an SDK's.
/// </summary>
public sealed class CountingBackend : IFleetBackend
{
    private readonly IFleetBackend _inner;
    private int _inFlight;

    public CountingBackend(IFleetBackend inner) => _inner = inner;

    public int Launched { get; private set; }

    public int MostInFlight { get; private set; }

    public int Terminated { get; private set; }

    public Action? OnTerminate { get; set; }

    public Action? OnPoll { get; set; }

    /// <summary>Called before each launch; a test throws from it to fail or refuse the launch.</summary>
    public Action? OnLaunch { get; set; }

    public BackendKind Kind => _inner.Kind;
    public bool SnapshotReboots => _inner.SnapshotReboots;
    public string Location => _inner.Location;
    public IClock Clock => _inner.Clock;
    public TimeSpan PollInterval => _inner.PollInterval;
    /// <summary>How many whole-list reads (farms, farm roles, roles) were made.</summary>
    public int ListReads { get; private set; }

    /// <summary>Every read, one line each with what it asked for (the Sandbox's "request log").</summary>
    public List<string> Reads { get; } = new();

    public IReadOnlyList<Farm> GetFarms(CancellationToken cancellationToken = default) { ListReads++; Reads.Add("GetFarms"); return _inner.GetFarms(cancellationToken); }
    public IReadOnlyList<FarmRole> GetFarmRoles(IReadOnlyCollection<string>? farms = null, CancellationToken cancellationToken = default) { ListReads++; Reads.Add("GetFarmRoles " + Joined(farms)); return _inner.GetFarmRoles(farms, cancellationToken); }
    public IReadOnlyList<Role> GetRoles(CancellationToken cancellationToken = default) { ListReads++; Reads.Add("GetRoles"); return _inner.GetRoles(cancellationToken); }

    public IReadOnlyList<Server> GetServers(ServerQuery query, CancellationToken cancellationToken = default)
    {
        if (query.Ids != null || query.IncludeTerminated) OnPoll?.Invoke();
        Reads.Add($"GetServers farms={Joined(query.Farms)} aliases={Joined(query.Aliases)} ids={Joined(query.Ids)} statuses={Joined(query.Statuses?.Select(s => s.ToString()).ToList())} terminated={query.IncludeTerminated}");
        return _inner.GetServers(query, cancellationToken);
    }

    public IReadOnlyList<Image> GetImages(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default)
    {
        Reads.Add("GetImages " + Joined(imageIds));
        return _inner.GetImages(imageIds, cancellationToken);
    }

    private static string Joined(IEnumerable<string>? values) => values == null ? "*" : string.Join(",", values.OrderBy(v => v, StringComparer.Ordinal));
    public Image CreateImage(Server source, string imageName, bool noReboot = false, CancellationToken cancellationToken = default) => _inner.CreateImage(source, imageName, noReboot, cancellationToken);
    public Role CreateRole(string roleName, Role template, string imageId, string? runId = null, CancellationToken cancellationToken = default) => _inner.CreateRole(roleName, template, imageId, runId, cancellationToken);
    public Role SetRoleImage(Role role, string imageId, CancellationToken cancellationToken = default) => _inner.SetRoleImage(role, imageId, cancellationToken);
    public FarmRole SetFarmRoleRole(FarmRole farmRole, string roleName, CancellationToken cancellationToken = default) => _inner.SetFarmRoleRole(farmRole, roleName, cancellationToken);

    public IReadOnlyList<Server> LaunchServers(FarmRole farmRole, int count, CancellationToken cancellationToken = default)
    {
        OnLaunch?.Invoke();
        LaunchCalls++;
        Launched += count;
        MostInFlight = Math.Max(MostInFlight, _inFlight += count);
        return _inner.LaunchServers(farmRole, count, cancellationToken);
    }

    public void TerminateServers(IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default)
    {
        OnTerminate?.Invoke();
        TerminateCalls++;
        Terminated += servers.Count;
        _inFlight -= servers.Count;
        _inner.TerminateServers(servers, cancellationToken);
    }

    /// <summary>Backend calls that launched or terminated (a batch is one call).</summary>
    public int LaunchCalls { get; private set; }

    public int TerminateCalls { get; private set; }

    /// <summary>The target group names of each load balancer read, in order.</summary>
    public List<IReadOnlyList<string>> TargetGroupReads { get; } = new();

    public T? Capability<T>() where T : class =>
        typeof(T) == typeof(ILoadBalancing) && _inner.Capability<ILoadBalancing>() is { } balancing
            ? (T)(object)new CountingBalancing(balancing, TargetGroupReads)
            : _inner.Capability<T>();

    private sealed class CountingBalancing : ILoadBalancing
    {
        private readonly ILoadBalancing _inner;
        private readonly List<IReadOnlyList<string>> _reads;

        public CountingBalancing(ILoadBalancing inner, List<IReadOnlyList<string>> reads)
        {
            _inner = inner;
            _reads = reads;
        }

        public IReadOnlyList<TargetGroupState> ReadTargetGroups(IReadOnlyCollection<string> targetGroups, CancellationToken cancellationToken = default)
        {
            lock (_reads) _reads.Add(targetGroups.ToList());
            return _inner.ReadTargetGroups(targetGroups, cancellationToken);
        }

        public void RegisterTargets(FarmRole farmRole, string targetGroup, IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default) =>
            _inner.RegisterTargets(farmRole, targetGroup, servers, cancellationToken);

        public void DeregisterTargets(FarmRole farmRole, string targetGroup, IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default) =>
            _inner.DeregisterTargets(farmRole, targetGroup, servers, cancellationToken);
    }

    public void Dispose() => _inner.Dispose();
}

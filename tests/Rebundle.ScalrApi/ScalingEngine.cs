using System;
using System.Collections.Generic;
using System.Linq;

namespace Rebundle.ScalrApi;

/// <summary>One thing the scaling engine did: a launch below min or a termination above max.</summary>
public sealed record ScalingEvent(DateTimeOffset At, string Farm, string Alias, string Action, string ServerId, string Reason);

/// <summary>
/// Scalr's scaling engine, as the 5.11 server runs it (a cron task, about once a minute; see
/// docs/scalr.md, "Scaling"): for each farm role of a running farm, once per run,
/// running + pending below minInstances launches one server, and running above maxInstances
/// terminates one running server, the oldest first (Scalr's default, keep_oldest off).
/// Runs are ticks of the loopback's clock, every <see cref="ScalrApiOptions.ScalingInterval"/>
/// from the fleet's start, caught up (in order, each at its own time) before every request,
/// so a manual clock drives it and nothing runs in the background.
/// </summary>
public sealed class ScalingEngine
{
    /// <summary>What Scalr counts as pending (GetPendingInstancesCount) and running.</summary>
    private static readonly string[] Pending = { "pending_launch", "pending", "initializing" };

    private readonly ScalrWorld _world;
    private readonly TimeSpan _interval;
    private DateTimeOffset _lastRun;

    internal ScalingEngine(ScalrWorld world, TimeSpan interval, DateTimeOffset start)
    {
        _world = world;
        _interval = interval;
        _lastRun = start;
    }

    public List<ScalingEvent> Events { get; } = new();

    /// <summary>Runs every tick due by now. Called under the world's lock.</summary>
    public void CatchUp(DateTimeOffset now)
    {
        if (_interval <= TimeSpan.Zero) return;
        while (_lastRun + _interval <= now)
        {
            _lastRun += _interval;
            Run(_lastRun);
        }
    }

    private void Run(DateTimeOffset at)
    {
        foreach (var farmRole in _world.FarmRoles.ToList())
        {
            var farm = _world.Farms.First(f => f.Id == farmRole.FarmId);
            if (farm.Status != "running") continue;
            var servers = _world.Servers.Where(s => s.FarmRoleId == farmRole.Id).ToList();
            var running = servers.Where(s => _world.Status(s, at) == "running").ToList();
            var pending = servers.Count(s => Pending.Contains(_world.Status(s, at)));
            if (running.Count + pending < farmRole.MinInstances)
            {
                var server = _world.Launch(farmRole, at, reason: LaunchReason);
                Events.Add(new ScalingEvent(at, farm.Name, farmRole.Alias, "launch", server.Id,
                    $"{running.Count + pending} running or pending, below minInstances {farmRole.MinInstances}"));
            }
            else if (running.Count > farmRole.MaxInstances)
            {
                var oldest = running.OrderBy(s => s.Launched).ThenBy(s => s.Index).First();
                _world.RequestTerminate(oldest, at);
                Events.Add(new ScalingEvent(at, farm.Name, farmRole.Alias, "terminate", oldest.Id,
                    $"{running.Count} running, above maxInstances {farmRole.MaxInstances}"));
            }
        }
    }

    /// <summary>The launch reason Scalr gives a server its scaling launched.</summary>
    public const string LaunchReason = "Scaling up: below minimum instances";
}

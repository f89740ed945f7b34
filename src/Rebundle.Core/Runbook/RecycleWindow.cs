using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Runbook
{
    /// <summary>
    /// The recycle's loop, for one farm or several side by side. Each round: fill every farm's
    /// window (one LaunchServers call per farm role), sleep one poll interval, read the in-flight
    /// farms' servers once (the same one read whether 3 or 300 are in flight), terminate the old
    /// servers of replacements now running (one TerminateServers call per farm), and fill again.
    /// The first failure (a replacement that failed or timed out, a refused launch) stops new
    /// launches in every farm; those in flight finish or time out, then the failure is thrown.
    ///
    /// Behind a load balancer (TargetGroupView) a running replacement is registered in its farm
    /// role's target groups and counts only once healthy in all of them; its old server is then
    /// deregistered and terminated once it has drained from every one, so the farm role never has
    /// fewer healthy targets than its count. A draining old holds its window slot until terminated. A
    /// replacement unhealthy past the health grace is deregistered, drained and terminated, and
    /// its old server keeps serving.
    /// </summary>
    internal sealed class RecycleWindow
    {
        private readonly IFleetBackend _backend;
        private readonly IRunbookReporter _reporter;
        private readonly RecycleOptions _options;
        private readonly CancellationToken _cancellation;
        private readonly Action<RecycledServer> _replaced;
        private readonly TargetGroupView _targets;
        private TtmException? _firstFailure;

        public RecycleWindow(IFleetBackend backend, IRunbookReporter reporter, RecycleOptions options, CancellationToken cancellation, Action<RecycledServer> replaced)
        {
            _backend = backend;
            _reporter = reporter;
            _options = options;
            _cancellation = cancellation;
            _replaced = replaced;
            _targets = new TargetGroupView(backend, cancellation);
        }

        public void Run(IReadOnlyList<FarmRecycle> farms)
        {
            var clock = _backend.Clock;
            // A rate-limited backend (IPollBackoff: Scalr) is asked less often while nothing changes;
            // the pause is short again as soon as a replacement settles.
            var schedule = new PollSchedule(_backend.PollInterval, _backend.Capability<IPollBackoff>()?.LongestPollInterval);
            while (true)
            {
                _cancellation.ThrowIfCancellationRequested();
                if (_firstFailure == null)
                    foreach (var farm in farms) Launch(farm);
                var flying = farms.Where(f => f.Busy).ToList();
                if (flying.Count == 0) break;
                Report(farms);

                var nearest = flying.SelectMany(f => f.Flying.Select(x => x.Since).Concat(f.Leaving.Select(l => l.Since))).Min() + _options.Timeout - clock.UtcNow;
                clock.Sleep(schedule.PauseWithin(nearest), _cancellation);
                // One read of the replacements in flight, by id: on AWS one filtered, paged call, on
                // Scalr one answer per server rather than a re-read of the farms.
                var ids = flying.SelectMany(f => f.Flying).Select(f => f.Replacement.Id).ToList();
                var seen = ids.Count == 0 ? new Dictionary<string, Server>(StringComparer.Ordinal)
                    : _backend.GetServers(new ServerQuery { Ids = ids, IncludeTerminated = true }, _cancellation)
                        .GroupBy(s => s.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
                // And one read of each target group the busy farm roles serve from.
                _targets.Read(flying.SelectMany(f => f.Flying.Select(x => f.FarmRoles.TryGetValue(x.Old.FarmRoleId, out var r) ? r : null)
                    .Concat(f.Leaving.Select(l => l.FarmRole))).Where(r => r != null).Select(r => r!).Distinct());
                var before = flying.Sum(f => f.Flying.Count + f.Leaving.Count);
                foreach (var farm in flying)
                {
                    Drain(farm, clock.UtcNow);
                    Settle(farm, seen, clock.UtcNow);
                }
                if (flying.Sum(f => f.Flying.Count + f.Leaving.Count) < before) schedule.Progressed();
                else schedule.Quiet();
            }
            if (_firstFailure != null) throw _firstFailure;
        }

        /// <summary>Launches replacements for the olds the farm's window has room for, one call per farm role.</summary>
        private void Launch(FarmRecycle farm)
        {
            var olds = farm.TakeNext(_options.Lockstep);
            if (olds.Count == 0) return;
            var now = _backend.Clock.UtcNow;
            foreach (var group in olds.GroupBy(o => o.FarmRoleId, StringComparer.Ordinal))
            {
                var spared = group.Where(o => farm.Spares.ContainsKey(o.Id)).ToList();
                foreach (var old in spared)
                {
                    var spare = farm.Spares[old.Id];
                    farm.NotServing.Add(spare);
                    farm.Adopted.Add(spare.Id);
                    farm.Flying.Add(new InFlight(old, spare, now));
                    _reporter.Verbose($"Using surplus {spare.Name} ({spare.Id}), launched before an interruption, to replace {old.Name} ({old.Id}).");
                }
                var toLaunch = group.Where(o => !farm.Spares.ContainsKey(o.Id)).ToList();
                if (toLaunch.Count == 0) continue;
                IReadOnlyList<Server> launched;
                try
                {
                    if (!farm.FarmRoles.TryGetValue(group.Key, out var farmRole))
                        throw new TtmException(TtmErrorCode.FarmRoleNotFound,
                            $"Server {toLaunch[0].Name} belongs to a farm role of {farm.Farm} that no longer exists; it was left alone.", toLaunch[0].Name);
                    launched = _backend.LaunchServers(farmRole, toLaunch.Count, _cancellation);
                }
                catch (LaunchStoppedException stopped)
                {
                    // Ctrl+C mid-launch: the stop terminates what came (through a group, taking back its capacity).
                    farm.NotServing.AddRange(stopped.Launched);
                    throw;
                }
                catch (LaunchIncompleteException partly)
                {
                    // Some of the batch runs already: they fly like the others (their olds are
                    // terminated once they run, or they are cleaned up), never left as surplus.
                    _firstFailure ??= partly;
                    launched = partly.Launched;
                }
                catch (TtmException refused)
                {
                    // Like a replacement that failed: no more launches, and those in flight finish first.
                    _firstFailure ??= refused;
                    return;
                }
                // Recorded before anything else can throw (even a report, when the host stops).
                farm.NotServing.AddRange(launched);
                for (var i = 0; i < launched.Count && i < toLaunch.Count; i++)
                {
                    farm.Flying.Add(new InFlight(toLaunch[i], launched[i], now));
                    _reporter.Verbose($"Launched {launched[i].Name} ({launched[i].Id}) of {farm.Farm} from role {launched[i].Role} to replace {toLaunch[i].Name} ({toLaunch[i].Id}).");
                }
            }
        }

        /// <summary>
        /// Terminates the olds of replacements now running (one call), or, behind a load balancer,
        /// registers running replacements and deregisters the olds of healthy ones; a failed or
        /// late replacement stops the recycle.
        /// </summary>
        private void Settle(FarmRecycle farm, IReadOnlyDictionary<string, Server> seen, DateTimeOffset now)
        {
            var running = new List<(InFlight flight, Server now)>();
            var serving = new List<(InFlight flight, Server now, FarmRole farmRole)>();
            var toRegister = new List<(InFlight flight, Server now, FarmRole farmRole)>();
            foreach (var flight in farm.Flying.ToList())
            {
                seen.TryGetValue(flight.Replacement.Id, out var server);
                var status = server?.Status ?? ServerStatus.Pending; // not listed yet: still booting, as far as anyone knows
                var timedOut = now - flight.Since >= _options.Timeout;
                farm.FarmRoles.TryGetValue(flight.Old.FarmRoleId, out var farmRole);
                if (status == ServerStatus.Running && _targets.IsBalanced(farmRole))
                {
                    if (flight.RegisteredAt == null) toRegister.Add((flight, server!, farmRole!));
                    else if (_targets.HealthyEverywhere(farmRole!, server!.Id)) serving.Add((flight, server, farmRole!));
                    else if (_targets.UnhealthyAnywhere(farmRole!, server.Id) && now - flight.RegisteredAt.Value >= _options.HealthGrace)
                        Withdraw(farm, flight, farmRole!, now, Unhealthy(farm.Farm, flight, farmRole!));
                    else if (timedOut) Withdraw(farm, flight, farmRole!, now, RecycleService.Broken(farm.Farm, flight.Old, flight.Replacement, true, _options.Timeout));
                    continue;
                }
                if (status == ServerStatus.Running)
                {
                    running.Add((flight, server!));
                    continue;
                }
                timedOut &= status == ServerStatus.Pending;
                if (status == ServerStatus.Pending && !timedOut) continue;
                var broken = RecycleService.Broken(farm.Farm, flight.Old, flight.Replacement, timedOut, _options.Timeout);
                if (flight.RegisteredAt != null && farmRole != null) Withdraw(farm, flight, farmRole, now, broken);
                else
                {
                    farm.Flying.Remove(flight);
                    _firstFailure ??= broken;
                }
            }

            foreach (var group in toRegister.GroupBy(r => r.farmRole))
            {
                // Recorded before the call: a stop during it must deregister, not terminate, them.
                foreach (var (flight, server, _) in group) farm.Registered.Add(server.Id);
                _targets.Register(group.Key, group.Select(r => r.now).ToList());
                foreach (var (flight, server, _) in group)
                {
                    flight.RegisteredAt = now;
                    _reporter.Verbose($"{server.Name} runs; registered it in target group(s) {string.Join(", ", group.Key.TargetGroups)} of {group.Key}.");
                }
            }

            foreach (var group in serving.GroupBy(r => r.farmRole))
            {
                // The replacement serves: from here on a stop keeps it, and its old must drain before it goes.
                foreach (var (flight, server, farmRole) in group)
                {
                    farm.Flying.Remove(flight);
                    farm.NotServing.Remove(flight.Replacement);
                    farm.Registered.Remove(server.Id);
                    farm.Leaving.Add(new Leaving(flight.Old, farmRole, flight, server, now));
                }
                _targets.Deregister(group.Key, group.Select(r => r.flight.Old).ToList());
                foreach (var (flight, server, _) in group)
                    _reporter.Verbose($"{server.Name} is healthy in every target group of {group.Key}; deregistered {flight.Old.Name} ({flight.Old.Id}), which drains before it is terminated.");
            }

            if (running.Count == 0) return;
            _backend.TerminateServers(running.Select(r => r.flight.Old).ToList(), _cancellation);
            foreach (var (flight, server) in running)
            {
                farm.Flying.Remove(flight);
                farm.NotServing.Remove(flight.Replacement);
                Replaced(farm, flight, server, now);
                _reporter.Verbose($"{server.Name} runs; terminated {flight.Old.Name} ({flight.Old.Id}).");
            }
        }

        /// <summary>Terminates the servers that have drained from every target group (one call); a drain past the timeout stops the recycle.</summary>
        private void Drain(FarmRecycle farm, DateTimeOffset now)
        {
            if (farm.Leaving.Count == 0) return;
            var drained = farm.Leaving.Where(l => _targets.Gone(l.FarmRole, l.Server.Id)).ToList();
            foreach (var late in farm.Leaving.Except(drained).Where(l => now - l.Since >= _options.Timeout).ToList())
            {
                farm.Leaving.Remove(late);
                _firstFailure ??= new TtmException(TtmErrorCode.ReplacementTimeout,
                    $"Server {late.Server.Name} ({late.Server.Id}) of {late.FarmRole} was still draining from its target groups {_options.Timeout} after it was deregistered. " +
                    "It was left running, deregistered; the recycle stopped. Run Invoke-TtmRecycle again once it has drained: it is terminated then.", late.Server.Name);
            }
            if (drained.Count == 0) return;
            _backend.TerminateServers(drained.Select(l => l.Server).ToList(), _cancellation);
            foreach (var leaving in drained)
            {
                farm.Leaving.Remove(leaving);
                if (leaving.Flight != null) Replaced(farm, leaving.Flight, leaving.Replacement!, now);
                _reporter.Verbose($"{leaving.Server.Name} ({leaving.Server.Id}) has drained from every target group of {leaving.FarmRole}; terminated it.");
            }
        }

        /// <summary>A replacement that will not serve: deregistered now, terminated once drained; its old server keeps serving.</summary>
        private void Withdraw(FarmRecycle farm, InFlight flight, FarmRole farmRole, DateTimeOffset now, TtmException why)
        {
            _firstFailure ??= why;
            farm.Flying.Remove(flight);
            _targets.Deregister(farmRole, new[] { flight.Replacement }, CancellationToken.None);
            farm.Registered.Remove(flight.Replacement.Id);
            farm.NotServing.Remove(flight.Replacement);
            farm.Leaving.Add(new Leaving(flight.Replacement, farmRole, null, null, now));
        }

        private void Replaced(FarmRecycle farm, InFlight flight, Server server, DateTimeOffset now)
        {
            farm.Done++;
            _replaced(new RecycledServer
            {
                Farm = farm.Farm, Alias = flight.Old.Alias, OldServer = flight.Old.Name, OldId = flight.Old.Id, NewServer = server.Name, NewId = server.Id,
                Role = server.Role, ImageId = server.ImageId, Duration = now - flight.Since,
            });
        }

        private TtmException Unhealthy(string farm, InFlight flight, FarmRole farmRole) => new TtmException(TtmErrorCode.ReplacementUnhealthy,
            $"Replacement {flight.Replacement.Name} ({flight.Replacement.Id}) for server {flight.Old.Name} of farm {farm} was unhealthy in target group(s) {string.Join(", ", farmRole.TargetGroups)} " +
            $"past its health grace ({_options.HealthGrace}). The recycle stopped; {flight.Old.Name} was kept serving, and the replacement is deregistered and terminated once drained. " +
            "Look at the application on role " + flight.Replacement.Role + " (its health check), or raise -HealthGrace, then run Invoke-TtmRecycle again.", flight.Old.Name);

        private void Report(IReadOnlyList<FarmRecycle> farms)
        {
            for (var i = 0; i < farms.Count; i++)
            {
                var farm = farms[i];
                var total = farm.Plan.ServerCount;
                _reporter.Progress(new ProgressReport(RecycleService.ProgressId + i * 2, $"Recycling farm {farm.Farm}",
                    $"{farm.Done} of {total} replaced; {farm.Flying.Count} in flight ({string.Join(", ", farm.Flying.Take(3).Select(f => f.Old.Name))}{(farm.Flying.Count > 3 ? ", …" : "")})" +
                    (farm.Leaving.Count > 0 ? $"; {farm.Leaving.Count} draining" : "") +
                    (_firstFailure != null ? "; stopping after a failure" : ""),
                    total == 0 ? 0 : farm.Done * 100 / total));
                if (farm.Flying.Count > 0)
                    _reporter.Progress(new ProgressReport(RecycleService.ProgressId + 1 + i * 2, $"Waiting for replacements in farm {farm.Farm}",
                        $"{farm.Flying.Count} in flight", -1));
            }
        }
    }
}

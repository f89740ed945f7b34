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
    /// </summary>
    internal sealed class RecycleWindow
    {
        private readonly IFleetBackend _backend;
        private readonly IRunbookReporter _reporter;
        private readonly RecycleOptions _options;
        private readonly CancellationToken _cancellation;
        private readonly Action<RecycledServer> _replaced;
        private TtmException? _firstFailure;

        public RecycleWindow(IFleetBackend backend, IRunbookReporter reporter, RecycleOptions options, CancellationToken cancellation, Action<RecycledServer> replaced)
        {
            _backend = backend;
            _reporter = reporter;
            _options = options;
            _cancellation = cancellation;
            _replaced = replaced;
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
                var flying = farms.Where(f => f.Flying.Count > 0).ToList();
                if (flying.Count == 0) break;
                Report(farms);

                var nearest = flying.SelectMany(f => f.Flying).Min(f => f.Since) + _options.Timeout - clock.UtcNow;
                clock.Sleep(schedule.PauseWithin(nearest), _cancellation);
                // One read of the replacements in flight, by id: on AWS one filtered, paged call, on
                // Scalr one answer per server rather than a re-read of the farms.
                var ids = flying.SelectMany(f => f.Flying).Select(f => f.Replacement.Id).ToList();
                var seen = _backend.GetServers(new ServerQuery { Ids = ids, IncludeTerminated = true }, _cancellation)
                    .GroupBy(s => s.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
                var before = flying.Sum(f => f.Flying.Count);
                foreach (var farm in flying) Settle(farm, seen, clock.UtcNow);
                if (flying.Sum(f => f.Flying.Count) < before) schedule.Progressed();
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

        /// <summary>Terminates the olds of replacements now running (one call); a failed or late replacement stops the recycle.</summary>
        private void Settle(FarmRecycle farm, IReadOnlyDictionary<string, Server> seen, DateTimeOffset now)
        {
            var running = new List<(InFlight flight, Server now)>();
            foreach (var flight in farm.Flying.ToList())
            {
                seen.TryGetValue(flight.Replacement.Id, out var server);
                var status = server?.Status ?? ServerStatus.Pending; // not listed yet: still booting, as far as anyone knows
                if (status == ServerStatus.Running)
                {
                    running.Add((flight, server!));
                    continue;
                }
                var timedOut = status == ServerStatus.Pending && now - flight.Since >= _options.Timeout;
                if (status == ServerStatus.Pending && !timedOut) continue;
                farm.Flying.Remove(flight);
                _firstFailure ??= RecycleService.Broken(farm.Farm, flight.Old, flight.Replacement, timedOut, _options.Timeout);
            }
            if (running.Count == 0) return;

            _backend.TerminateServers(running.Select(r => r.flight.Old).ToList(), _cancellation);
            foreach (var (flight, server) in running)
            {
                farm.Flying.Remove(flight);
                farm.NotServing.Remove(flight.Replacement);
                farm.Done++;
                _replaced(new RecycledServer
                {
                    Farm = farm.Farm, Alias = flight.Old.Alias, OldServer = flight.Old.Name, OldId = flight.Old.Id, NewServer = server.Name, NewId = server.Id,
                    Role = server.Role, ImageId = server.ImageId, Duration = now - flight.Since,
                });
                _reporter.Verbose($"{server.Name} runs; terminated {flight.Old.Name} ({flight.Old.Id}).");
            }
        }

        private void Report(IReadOnlyList<FarmRecycle> farms)
        {
            for (var i = 0; i < farms.Count; i++)
            {
                var farm = farms[i];
                var total = farm.Plan.ServerCount;
                _reporter.Progress(new ProgressReport(RecycleService.ProgressId + i * 2, $"Recycling farm {farm.Farm}",
                    $"{farm.Done} of {total} replaced; {farm.Flying.Count} in flight ({string.Join(", ", farm.Flying.Take(3).Select(f => f.Old.Name))}{(farm.Flying.Count > 3 ? ", …" : "")})" +
                    (_firstFailure != null ? "; stopping after a failure" : ""),
                    total == 0 ? 0 : farm.Done * 100 / total));
                if (farm.Flying.Count > 0)
                    _reporter.Progress(new ProgressReport(RecycleService.ProgressId + 1 + i * 2, $"Waiting for replacements in farm {farm.Farm}",
                        $"{farm.Flying.Count} in flight", -1));
            }
        }
    }
}

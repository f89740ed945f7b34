using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;

namespace Rebundle.Scalr
{
    /// <summary>
    /// The fleet as Scalr sees it, through APIv2 (<c>/api/v1beta0/user/{envId}/…</c>):
    /// farms, farm roles (an alias and the role it runs), roles with their images, servers.
    /// Snapshots are EC2 CreateImage of the server's instance, registered in Scalr once
    /// available. Reads use list routes with pagination; see docs/scalr.md for each route.
    /// </summary>
    public sealed partial class ScalrBackend : IFleetBackend
    {
        /// <summary>Above this many farm roles, one environment-wide server list is cheaper than one list per farm role.</summary>
        private const int PerFarmRoleServerLists = 2;

        private readonly ScalrClient _client;
        private readonly ScalrConnectionOptions _options;
        private readonly Ec2ImageMaker _ec2;
        private readonly Dictionary<string, string> _ec2Regions = new Dictionary<string, string>(StringComparer.Ordinal);
        /// <summary>Farm roles by id as last read, so a poll of servers by id needs no re-read of farms and roles.</summary>
        private readonly Dictionary<string, FarmRole> _farmRoles = new Dictionary<string, FarmRole>(StringComparer.Ordinal);
        private readonly object _gate = new object();

        // Capability<T> answers with the first of these that is a T (ScalrCapabilities.cs); the
        // backend itself stands for IFleetBackend, as a backend always has.
        private readonly object[] _capabilities;

        private ScalrBackend(ScalrConnectionOptions options, ScalrClient client, IClock clock)
        {
            _options = options;
            _client = client;
            _ec2 = new Ec2ImageMaker(options);
            Clock = clock;
            _capabilities = new object[] { this, ScalrSshReachable.Instance, new ScalrPollBackoff(PollInterval), new ScalrSharedListReads(client) };
        }

        public BackendKind Kind => BackendKind.Scalr;

        /// <summary>Scalr's snapshots are EC2 CreateImage calls, which reboot the server unless told not to.</summary>
        public bool SnapshotReboots => true;

        public string Location => $"{_options.ShownUrl} (environment {_options.EnvironmentId})";

        public IClock Clock { get; }

        public TimeSpan PollInterval => _options.PollInterval ?? TimeSpan.FromSeconds(5);

        /// <summary>The client, for callers that want its request log.</summary>
        public ScalrClient Client => _client;

        /// <summary>
        /// Connects and checks the key with one cheap signed request (the first farm). A bad
        /// signature or a key without access to the environment fails here, plainly, as
        /// <see cref="TtmErrorCode.AccessDenied"/>; an unreachable server as
        /// <see cref="TtmErrorCode.ConnectionFailed"/>.
        /// </summary>
        public static ScalrBackend Connect(ScalrConnectionOptions options, IClock? clock = null)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            options.Validate();
            new Ec2ImageMaker(options).ProfileCredentials(); // a missing -AwsProfileName fails here, not at the first snapshot
            var client = new ScalrClient(options, clock);
            try
            {
                client.Send(System.Net.Http.HttpMethod.Get, client.PathAndQuery("farms/", new[] { new KeyValuePair<string, string>("maxResults", "1") }), null).Dispose();
            }
            catch (TtmException e) when (e.Code == TtmErrorCode.FarmNotFound)
            {
                client.Dispose();
                throw new TtmException(TtmErrorCode.ConnectionFailed,
                    $"Scalr at {options.ShownUrl} has no environment {options.EnvironmentId} for key {options.KeyId} ({e.BackendCode}). Check -EnvironmentId.",
                    options.EnvironmentId, e) { BackendCode = e.BackendCode };
            }
            catch
            {
                client.Dispose();
                throw;
            }
            var backend = new ScalrBackend(options, client, clock ?? SystemClock.Instance);
            try
            {
                backend.CheckAwsAccountSeesEnvironmentImages();
            }
            catch
            {
                backend.Dispose();
                throw;
            }
            return backend;
        }

        /// <summary>Connects with options from SCALR_URL, SCALR_KEY_ID, SCALR_SECRET and SCALR_ENV_ID.</summary>
        public static ScalrBackend ConnectFromEnvironment(IClock? clock = null) =>
            Connect(new ScalrConnectionOptions().WithEnvironmentDefaults(), clock);

        public IReadOnlyList<Farm> GetFarms(CancellationToken cancellationToken = default)
        {
            var farms = ListFarms(cancellationToken);
            return farms.Select(f => new Farm { Name = f.Name, Id = f.Id, FarmRoleCount = ListFarmRoles(f.Id, cancellationToken).Count }).ToList();
        }

        public IReadOnlyList<FarmRole> GetFarmRoles(IReadOnlyCollection<string>? farms = null, CancellationToken cancellationToken = default)
        {
            var selected = ListFarms(cancellationToken).Where(f => farms == null || farms.Contains(f.Name, StringComparer.OrdinalIgnoreCase)).ToList();
            var roleNames = RoleNames(cancellationToken);
            var result = new List<FarmRole>();
            foreach (var farm in selected)
            {
                foreach (var fr in ListFarmRoles(farm.Id, cancellationToken))
                {
                    result.Add(ToFarmRole(farm, fr, roleNames));
                    RememberMaxInstances(fr);
                }
            }
            lock (_gate) foreach (var farmRole in result) _farmRoles[farmRole.Id] = farmRole;
            return result;
        }

        public IReadOnlyList<Server> GetServers(ServerQuery query, CancellationToken cancellationToken = default)
        {
            if (query.Ids != null) return ServersById(query, cancellationToken);
            var farmRoles = GetFarmRoles(query.Farms, cancellationToken)
                .Where(r => query.Aliases == null || query.Aliases.Contains(r.Alias, StringComparer.OrdinalIgnoreCase))
                .ToDictionary(r => r.Id, StringComparer.Ordinal);
            if (farmRoles.Count == 0) return Array.Empty<Server>();

            // A narrow query reads its farm roles' lists; anything wider reads the environment's one list.
            var raw = farmRoles.Count <= PerFarmRoleServerLists
                ? farmRoles.Keys.SelectMany(id => _client.List($"farm-roles/{id}/servers/", null, cancellationToken)).ToList()
                : _client.List("servers/", null, cancellationToken).ToList();

            return Finish(raw.Select(ScalrServer.From).Where(s => farmRoles.ContainsKey(s.FarmRoleId)), farmRoles, query, cancellationToken);
        }

        /// <summary>
        /// Servers asked for by id (what waits poll): one GET per server, farm roles from the last
        /// read, so a poll round costs one request per waited-for server, not a re-read of the environment.
        /// </summary>
        private IReadOnlyList<Server> ServersById(ServerQuery query, CancellationToken cancellationToken)
        {
            var found = new List<ScalrServer>();
            foreach (var id in query.Ids!.Distinct(StringComparer.Ordinal))
            {
                try { found.Add(ScalrServer.From(_client.Get($"servers/{id}/", null, cancellationToken))); }
                catch (TtmException e) when (e.Code == TtmErrorCode.ServerNotFound) { /* gone: not in the answer */ }
            }
            Dictionary<string, FarmRole> farmRoles;
            lock (_gate) farmRoles = new Dictionary<string, FarmRole>(_farmRoles, StringComparer.Ordinal);
            if (found.Any(s => !farmRoles.ContainsKey(s.FarmRoleId)))
                farmRoles = GetFarmRoles(null, cancellationToken).ToDictionary(r => r.Id, StringComparer.Ordinal);
            var selected = farmRoles.Values
                .Where(r => query.Farms == null || query.Farms.Contains(r.Farm, StringComparer.OrdinalIgnoreCase))
                .Where(r => query.Aliases == null || query.Aliases.Contains(r.Alias, StringComparer.OrdinalIgnoreCase))
                .ToDictionary(r => r.Id, StringComparer.Ordinal);
            return Finish(found.Where(s => selected.ContainsKey(s.FarmRoleId)), selected, query, cancellationToken);
        }

        private IReadOnlyList<Server> Finish(IEnumerable<ScalrServer> raw, IReadOnlyDictionary<string, FarmRole> farmRoles, ServerQuery query, CancellationToken cancellationToken)
        {
            var servers = raw
                .Select(s => (scalr: s, server: ToServer(s, farmRoles[s.FarmRoleId])))
                .Where(p => query.IncludeTerminated || p.server.Status != ServerStatus.Terminated || (query.Statuses?.Contains(ServerStatus.Terminated) ?? false))
                .Where(p => query.Statuses == null || query.Statuses.Count == 0 || query.Statuses.Contains(p.server.Status))
                .ToList();
            var images = InstanceImages(servers.Select(p => p.scalr).ToList(), cancellationToken);
            return servers.Select(p => images.TryGetValue(p.scalr.CloudServerId, out var image) ? p.server with { ImageId = image } : p.server).ToList();
        }

        /// <summary>
        /// Which image each server's instance runs. Scalr's server object does not say, EC2 does:
        /// one DescribeInstances per region for all of them, when AWS settings were given.
        /// </summary>
        private IReadOnlyDictionary<string, string> InstanceImages(IReadOnlyList<ScalrServer> servers, CancellationToken cancellationToken)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            if (!_ec2.IsConfigured) return result;
            foreach (var region in servers.Where(s => s.CloudServerId.Length > 0).GroupBy(s => _ec2.RegionFor(s.CloudLocation)))
            {
                foreach (var pair in _ec2.InstanceImages(region.Key, region.Select(s => s.CloudServerId).Distinct().ToList(), cancellationToken))
                    result[pair.Key] = pair.Value;
            }
            return result;
        }

        public FarmRole SetFarmRoleRole(FarmRole farmRole, string roleName, CancellationToken cancellationToken = default)
        {
            var role = FindScalrRole(roleName, cancellationToken);
            var updated = ScalrFarmRole.From(_client.Patch($"farm-roles/{farmRole.Id}/", new { role = new { id = JsonId(role.Id) } }, cancellationToken));
            var result = farmRole with { Role = role.Name, DesiredCount = updated.MinInstances };
            lock (_gate) _farmRoles[result.Id] = result;
            return result;
        }

        /// <summary>
        /// Launches one server. The farm role's servers are read first, so that after a lost
        /// answer the server launched since is found and used, never a second one launched.
        /// </summary>
        private Server LaunchOne(FarmRole farmRole, CancellationToken cancellationToken)
        {
            var servers = ServersOf(farmRole.Id, cancellationToken);
            RequireRoomFor(farmRole, servers, 1, cancellationToken);
            var before = new HashSet<string>(servers.Select(s => s.Id), StringComparer.Ordinal);
            var server = PostOnce($"the launch of a server in {farmRole.Farm}/{farmRole.Alias}",
                () => PostLaunch(farmRole, cancellationToken),
                () => LaunchedSince(farmRole.Id, before, cancellationToken), cancellationToken);
            return ToServer(server, farmRole);
        }

        /// <summary>
        /// Not forced: Scalr runs its termination hooks (scalr.system.server_terminate_timeout).
        /// A server Scalr is already terminating, or has terminated, is done (Scalr answers a
        /// second terminate with 409 UnacceptableState).
        /// </summary>
        private void TerminateOne(Server server, CancellationToken cancellationToken)
        {
            try
            {
                PostOnce($"the termination of {server.Name}",
                    () => { _client.Post($"servers/{server.Id}/actions/terminate/", new { force = false }, cancellationToken); return Done.Instance; },
                    () => IsTerminatingOrGone(server.Id, cancellationToken) ? Done.Instance : null, cancellationToken);
            }
            catch (TtmException e) when (e.BackendCode == "UnacceptableState" && IsTerminatingOrGone(server.Id, cancellationToken))
            {
                // Already terminating or terminated: what was asked is done.
            }
        }

        /// <summary>
        /// Scalr's API launches one server a call. The whole batch is measured against the farm
        /// role's maxInstances first, so a batch Scalr would refuse half-way is refused before any
        /// launch. A failure after some launched returns those in a <see cref="LaunchIncompleteException"/>,
        /// so the recycle uses or cleans them up.
        /// </summary>
        public IReadOnlyList<Server> LaunchServers(FarmRole farmRole, int count, CancellationToken cancellationToken = default)
        {
            if (count <= 0) return Array.Empty<Server>();
            if (count == 1) return new[] { LaunchOne(farmRole, cancellationToken) }; // it checks the room itself
            RequireRoomFor(farmRole, ServersOf(farmRole.Id, cancellationToken), count, cancellationToken);
            var launched = new List<Server>();
            for (var i = 0; i < count; i++)
            {
                try
                {
                    launched.Add(LaunchOne(farmRole, cancellationToken));
                }
                catch (TtmException e) when (launched.Count > 0)
                {
                    throw new LaunchIncompleteException(e, launched,
                        $"Launched {launched.Count} of {count} servers of farm role {farmRole} ({string.Join(", ", launched.Select(s => s.Name))}), then: {e.Message}");
                }
            }
            return launched;
        }

        /// <summary>Scalr's API terminates one server a call.</summary>
        public void TerminateServers(IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default)
        {
            foreach (var server in servers) TerminateOne(server, cancellationToken);
        }

        /// <summary>SSH-reachable servers, poll backoff and shared list reads only: Scalr has no image lookup by name nor role retirement here.</summary>
        public T? Capability<T>() where T : class => _capabilities.OfType<T>().FirstOrDefault();

        public void Dispose()
        {
            _client.Dispose();
            _ec2.Dispose();
        }

        private IReadOnlyList<ScalrFarm> ListFarms(CancellationToken cancellationToken) => _client.List("farms/", null, cancellationToken).Select(ScalrFarm.From).ToList();

        private IReadOnlyList<ScalrFarmRole> ListFarmRoles(string farmId, CancellationToken cancellationToken) =>
            _client.List($"farms/{farmId}/farm-roles/", null, cancellationToken).Select(ScalrFarmRole.From).ToList();

        private static FarmRole ToFarmRole(ScalrFarm farm, ScalrFarmRole fr, IReadOnlyDictionary<string, string> roleNames) => new FarmRole
        {
            Farm = farm.Name,
            FarmId = farm.Id,
            Alias = fr.Alias,
            Role = roleNames.TryGetValue(fr.RoleId, out var name) ? name : fr.RoleId,
            DesiredCount = fr.MinInstances,
            Id = fr.Id,
        };

        private static Server ToServer(ScalrServer s, FarmRole farmRole) => new Server
        {
            Farm = farmRole.Farm,
            FarmId = farmRole.FarmId,
            Alias = farmRole.Alias,
            // Scalr's server object names only its farm role; the role is the one the farm role runs.
            Role = farmRole.Role,
            Index = s.Index,
            Status = StatusOf(s.Status),
            Id = s.Id,
            FarmRoleId = s.FarmRoleId,
            PublicIp = s.PublicIp,
            PrivateIp = s.PrivateIp,
            Region = s.CloudLocation,
            LaunchedAt = s.Launched,
        };

        /// <summary>
        /// Scalr's server states (the spec's enum) onto the runbook's five. Scalr has no failed
        /// state: a launch that fails ends terminated without ever running, which a wait for a
        /// replacement reports as failed. A suspended server is not serving and will not serve
        /// until someone resumes it, so it counts as failed, not pending.
        /// </summary>
        internal static ServerStatus StatusOf(string scalrStatus)
        {
            switch (scalrStatus.ToLowerInvariant())
            {
                case "running": return ServerStatus.Running;
                case "pending_terminate": return ServerStatus.Terminating;
                case "terminated": return ServerStatus.Terminated;
                case "pending_suspend":
                case "suspended": return ServerStatus.Failed;
                // temporary, pending_launch, pending, initializing, importing, resuming: on the way to running.
                default: return ServerStatus.Pending;
            }
        }

        /// <summary>Scalr's numeric ids go back as numbers, others as strings.</summary>
        private static object JsonId(string id) => long.TryParse(id, out var n) ? n : (object)id;
    }
}

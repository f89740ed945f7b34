using System.IO;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Naming;
using Rebundle.Runbook;

namespace Rebundle.Sandbox
{
    /// <summary>
    /// The embedded rehearsal fleet. Every call opens the state file under its lock, lets
    /// due respawns happen, reads or changes, and writes back only what changed — so state
    /// survives between sessions and two sessions can share one Sandbox.
    /// </summary>
    public sealed class SandboxBackend : IFleetBackend
    {
        public const string FileName = "sandbox.json";

        private readonly SandboxStore _store;
        private readonly NameTables _names;

        // The capabilities are parts of their own, over this backend's one state file and its lock
        // (the Sandbox is that file); Capability<T> answers with the first that is a T, the
        // backend itself standing for IFleetBackend. The two kept here back the forwarders below.
        private readonly SandboxImageLookup _images;
        private readonly SandboxControl _control;
        private readonly object[] _capabilities;

        private SandboxBackend(SandboxStore store, NameTables names, IClock clock)
        {
            _store = store;
            _names = names;
            Clock = clock;
            _images = new SandboxImageLookup(this);
            _control = new SandboxControl(this);
            _capabilities = new object[] { this, _images, new SandboxRoleRetirement(this), _control, new SandboxLoadBalancing(this) };
        }

        /// <summary>
        /// Opens (and on first use seeds) the Sandbox in <paramref name="directory"/>, by default
        /// <c>~/.rebundle/sandbox</c>.
        /// </summary>
        /// <param name="lockTimeout">How long to wait for another process's lock on the file before TtmStateFileLocked; default 30 seconds.</param>
        public static SandboxBackend Open(string? directory = null, NameTables? names = null, IClock? clock = null, TimeSpan? lockTimeout = null)
        {
            var folder = string.IsNullOrEmpty(directory) ? DefaultDirectory : Path.GetFullPath(directory);
            // The Sandbox's file and leases go inside the folder, so a file there cannot be it.
            if (File.Exists(folder))
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    $"-Path {folder} is a file; the Sandbox's -Path is a folder (its state is kept in {FileName} inside). Give a folder, new or existing.", folder);
            var backend = new SandboxBackend(new SandboxStore(Path.Combine(folder, FileName), lockTimeout), names ?? NameTables.Default, clock ?? SystemClock.Instance);
            try
            {
                backend.Read(CancellationToken.None, _ => true); // seed now, and fail at connect time if the file is unreadable
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                // A folder under a file, or one this user may not write: nothing was made.
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    $"The Sandbox cannot keep its file in {folder}: {e.Message} Give a folder this user can create and write.", folder, e);
            }
            return backend;
        }

        public static string DefaultDirectory =>
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".rebundle", "sandbox");

        public BackendKind Kind => BackendKind.Sandbox;

        /// <summary>A Sandbox snapshot is a copy of the record: nothing reboots.</summary>
        public bool SnapshotReboots => false;

        public string Location => _store.Path;

        public IClock Clock { get; }

        public TimeSpan PollInterval => TimeSpan.FromMilliseconds(200);

        /// <summary>State file writes by this backend so far (tests count them per batch).</summary>
        internal int StateWrites => _store.Writes;

        public IReadOnlyList<Farm> GetFarms(CancellationToken cancellationToken = default) => Read(cancellationToken, state => state.Farms
            .Select(f => new Farm { Id = f.Id, Name = f.Name, FarmRoleCount = state.FarmRoles.Count(r => r.FarmId == f.Id) })
            .ToList());

        public IReadOnlyList<FarmRole> GetFarmRoles(IReadOnlyCollection<string>? farms = null, CancellationToken cancellationToken = default) => Read(cancellationToken, state => state.FarmRoles
            .Select(r => ToFarmRole(state, r))
            .Where(r => farms == null || farms.Contains(r.Farm, StringComparer.OrdinalIgnoreCase))
            .ToList());

        public IReadOnlyList<Role> GetRoles(CancellationToken cancellationToken = default) => Read(cancellationToken, state => state.Roles
            .Select(r => Role.Named(r.Name, r.ImageId, r.Id, r.CreatedAt) with { CreatedByRun = r.CreatedByRun })
            .ToList());

        public IReadOnlyList<Server> GetServers(ServerQuery query, CancellationToken cancellationToken = default) => Read(cancellationToken, state => state.Servers
            .Select(s => ToServer(state, s))
            .Where(s => query.IncludeTerminated || s.Status != ServerStatus.Terminated)
            .Where(s => query.Farms == null || query.Farms.Contains(s.Farm, StringComparer.OrdinalIgnoreCase))
            .Where(s => query.Aliases == null || query.Aliases.Contains(s.Alias, StringComparer.OrdinalIgnoreCase))
            .Where(s => query.Ids == null || query.Ids.Contains(s.Id, StringComparer.Ordinal))
            .Where(s => query.Statuses == null || query.Statuses.Count == 0 || query.Statuses.Contains(s.Status))
            .ToList());

        public IReadOnlyList<Image> GetImages(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default) => Read(cancellationToken, state => state.Images
            .Where(i => imageIds.Contains(i.Id, StringComparer.Ordinal))
            .Select(i => ToImage(i, Clock.UtcNow))
            .ToList());

        public Image CreateImage(Server source, string imageName, bool noReboot = false, CancellationToken cancellationToken = default) => Change(cancellationToken, state =>
        {
            var server = RequireServer(state, source.Id);
            if (SandboxSimulation.StatusOf(server, Clock.UtcNow) != ServerStatus.Running)
                throw new TtmException(TtmErrorCode.ServerNotRunning, $"Server {source.Name} is not running; it cannot be imaged.", source.Name);
            var now = Clock.UtcNow;
            var image = new ImageRecord
            {
                Id = new SandboxIds(state).Image(),
                Name = imageName,
                CreatedAt = now,
                ReadyAt = now + TimeSpan.FromSeconds(state.Simulation.ImageSeconds),
                Fails = state.Simulation.FailImage.Contains(imageName, StringComparer.OrdinalIgnoreCase),
                SourceServerId = server.Id,
            };
            state.Images.Add(image);
            return ToImage(image, now);
        });

        public Role CreateRole(string roleName, Role template, string imageId, string? runId = null, CancellationToken cancellationToken = default) => Change(cancellationToken, state =>
        {
            if (state.Roles.Any(r => string.Equals(r.Name, roleName, StringComparison.OrdinalIgnoreCase)))
                throw new TtmException(TtmErrorCode.RoleAlreadyExists, $"Role {roleName} already exists; a role is never overwritten.", roleName);
            // The new role takes its launch settings from the template, as on AWS and Scalr: it must exist.
            if (!state.Roles.Any(r => string.Equals(r.Name, template.Name, StringComparison.OrdinalIgnoreCase)))
                throw new TtmException(TtmErrorCode.RoleNotFound, $"There is no role named '{template.Name}' to copy role {roleName} from. Run Get-TtmRole -IncludeVersions to list roles.", template.Name);
            RequireImage(state, imageId);
            var record = new RoleRecord { Id = new SandboxIds(state).Role(), Name = RoleName.Parse(roleName).FullName, ImageId = imageId, CreatedAt = Clock.UtcNow, CreatedByRun = runId };
            state.Roles.Add(record);
            return Role.Named(record.Name, record.ImageId, record.Id, record.CreatedAt) with { CreatedByRun = runId };
        });

        public Role SetRoleImage(Role role, string imageId, CancellationToken cancellationToken = default) => Change(cancellationToken, state =>
        {
            var record = state.Roles.FirstOrDefault(r => string.Equals(r.Name, role.Name, StringComparison.OrdinalIgnoreCase))
                ?? throw new TtmException(TtmErrorCode.RoleNotFound, $"There is no role named '{role.Name}'.", role.Name);
            RequireImage(state, imageId);
            if (record.ImageId != imageId)
            {
                record.PreviousImages.Add(record.ImageId);
                record.ImageId = imageId;
            }
            return Role.Named(record.Name, record.ImageId, record.Id, record.CreatedAt);
        });

        public FarmRole SetFarmRoleRole(FarmRole farmRole, string roleName, CancellationToken cancellationToken = default) => Change(cancellationToken, state =>
        {
            var record = state.FarmRoles.FirstOrDefault(r => r.Id == farmRole.Id)
                ?? throw new TtmException(TtmErrorCode.FarmRoleNotFound, $"Farm role {farmRole} no longer exists.", farmRole.ToString());
            var role = state.Roles.FirstOrDefault(r => string.Equals(r.Name, roleName, StringComparison.OrdinalIgnoreCase))
                ?? throw new TtmException(TtmErrorCode.RoleNotFound, $"There is no role named '{roleName}'.", roleName);
            record.Role = role.Name;
            return ToFarmRole(state, record);
        });

        /// <summary>One state write for the whole batch: the file is rewritten once, not once per server.</summary>
        public IReadOnlyList<Server> LaunchServers(FarmRole farmRole, int count, CancellationToken cancellationToken = default) => count < 1
            ? Array.Empty<Server>()
            : Change(cancellationToken, state =>
            {
                var record = state.FarmRoles.FirstOrDefault(r => r.Id == farmRole.Id)
                    ?? throw new TtmException(TtmErrorCode.FarmRoleNotFound, $"Farm role {farmRole} no longer exists.", farmRole.ToString());
                var launched = new List<Server>();
                for (var i = 0; i < count; i++)
                {
                    var server = SandboxSimulation.Launch(state, record, Clock.UtcNow);
                    state.Servers.Add(server);
                    launched.Add(ToServer(state, server));
                }
                return (IReadOnlyList<Server>)launched;
            });

        /// <summary>All or nothing: an unknown id terminates none of them.</summary>
        public void TerminateServers(IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default)
        {
            if (servers.Count == 0) return;
            Change(cancellationToken, state =>
            {
                var records = servers.Select(s => RequireServer(state, s.Id)).ToList();
                foreach (var record in records) record.TerminatedAt ??= Clock.UtcNow;
                return true;
            });
        }

        /// <inheritdoc cref="IImageLookup.FindImagesByName"/>
        public IReadOnlyList<Image> FindImagesByName(string name, CancellationToken cancellationToken = default) =>
            _images.FindImagesByName(name, cancellationToken);

        /// <summary>Image lookup, role retirement and Sandbox control, each a part (SandboxCapabilities.cs); not SSH (its addresses are made up).</summary>
        public T? Capability<T>() where T : class => _capabilities.OfType<T>().FirstOrDefault();

        public void Dispose()
        {
        }

        /// <inheritdoc cref="ISandboxControl.Simulate"/>
        public void Simulate(Action<SimulationOptions> change) => _control.Simulate(change);

        // One local file under a lock: a call is short, so a stop is honoured before it starts
        // and never halfway through a write.
        internal T Read<T>(CancellationToken cancellation, Func<SandboxState, T> read)
        {
            cancellation.ThrowIfCancellationRequested();
            return _store.Use(state => (read(state), SandboxSimulation.Respawn(state, Clock.UtcNow)), Seed);
        }

        internal T Change<T>(CancellationToken cancellation, Func<SandboxState, T> change)
        {
            cancellation.ThrowIfCancellationRequested();
            return _store.Use(state =>
            {
                SandboxSimulation.Respawn(state, Clock.UtcNow);
                return (change(state), true);
            }, Seed);
        }

        private SandboxState Seed() => SandboxSeed.Create(_names, Clock.UtcNow);

        private static ServerRecord RequireServer(SandboxState state, string id) =>
            state.Servers.FirstOrDefault(s => s.Id == id)
            ?? throw new TtmException(TtmErrorCode.ServerNotFound, $"There is no server with id '{id}' in the Sandbox.", id);

        private static void RequireImage(SandboxState state, string id)
        {
            if (!state.Images.Any(i => i.Id == id))
                throw new TtmException(TtmErrorCode.ImageNotFound, $"There is no image '{id}' in the Sandbox.", id);
        }

        private FarmRole ToFarmRole(SandboxState state, FarmRoleRecord r)
        {
            var farm = state.Farms.First(f => f.Id == r.FarmId);
            return new FarmRole { Id = r.Id, Farm = farm.Name, FarmId = farm.Id, Alias = r.Alias, Role = r.Role, DesiredCount = r.Count, ChefRole = _names.ChefRoleFor(r.Alias), TargetGroups = r.TargetGroups.ToList() };
        }

        private Server ToServer(SandboxState state, ServerRecord s)
        {
            var farmRole = state.FarmRoles.First(r => r.Id == s.FarmRoleId);
            var farm = state.Farms.First(f => f.Id == farmRole.FarmId);
            return new Server
            {
                Id = s.Id, Farm = farm.Name, FarmId = farm.Id, Alias = farmRole.Alias, Role = s.Role, Index = s.Index,
                Status = SandboxSimulation.StatusOf(s, Clock.UtcNow), FarmRoleId = farmRole.Id, ImageId = s.ImageId,
                PrivateIp = s.PrivateIp, PublicIp = s.PublicIp, Region = "sandbox", LaunchedAt = s.LaunchedAt,
            };
        }

        internal static Image ToImage(ImageRecord i, DateTimeOffset now) => new Image
        {
            Id = i.Id, Name = i.Name, Status = SandboxSimulation.StatusOf(i, now), CreatedAt = i.CreatedAt, SourceServerId = i.SourceServerId,
            StatusReason = i.Fails && SandboxSimulation.StatusOf(i, now) == ImageStatus.Failed ? "the Sandbox was told to fail this image" : null,
        };
    }

    /// <summary>The Sandbox's rehearsal knobs, as scripts and tests set them.</summary>
    public sealed class SimulationOptions
    {
        private readonly SimulationSettings _settings;

        internal SimulationOptions(SimulationSettings settings) => _settings = settings;

        public TimeSpan BootDelay { get => TimeSpan.FromSeconds(_settings.BootSeconds); set => _settings.BootSeconds = value.TotalSeconds; }

        /// <summary>Each boot takes BootDelay plus a share of this, drawn from <see cref="BootSeed"/>'s sequence.</summary>
        public TimeSpan BootSpread { get => TimeSpan.FromSeconds(_settings.BootSpreadSeconds); set => _settings.BootSpreadSeconds = value.TotalSeconds; }

        /// <summary>Setting the seed starts its sequence again: a rehearsal run with the same seed boots alike.</summary>
        public int BootSeed
        {
            get => _settings.BootSeed;
            set
            {
                _settings.BootSeed = value;
                _settings.BootDraws = 0;
            }
        }

        public TimeSpan ImageDelay { get => TimeSpan.FromSeconds(_settings.ImageSeconds); set => _settings.ImageSeconds = value.TotalSeconds; }

        public TimeSpan RespawnDelay { get => TimeSpan.FromSeconds(_settings.RespawnSeconds); set => _settings.RespawnSeconds = value.TotalSeconds; }

        public IList<string> FailBoot => _settings.FailBoot;

        public IList<string> NeverBoot => _settings.NeverBoot;

        public IList<string> FailImage => _settings.FailImage;

        /// <summary>How long a registered target stays "initial" before it is healthy.</summary>
        public TimeSpan HealthDelay { get => TimeSpan.FromSeconds(_settings.HealthSeconds); set => _settings.HealthSeconds = value.TotalSeconds; }

        /// <summary>How long a deregistered target drains (the target groups' deregistration delay).</summary>
        public TimeSpan DrainDelay { get => TimeSpan.FromSeconds(_settings.DrainSeconds); set => _settings.DrainSeconds = value.TotalSeconds; }

        /// <summary>"Farm/Alias" of farm roles whose new servers fail their health checks.</summary>
        public IList<string> FailHealth => _settings.FailHealth;
    }
}

using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;
using Rebundle.Safety;

namespace Rebundle.Audit
{
    /// <summary>
    /// The one path every change takes. Each change is described by what it touches
    /// (<see cref="ChangeIntent"/>), checked by the <see cref="ChangeGuard"/> (a protected farm
    /// needs approval), written to the audit log as an intent — if that write fails, nothing
    /// changes — then made, then written again with its outcome. Reads pass straight through.
    /// Between the guard and the intent the change takes the lease on those farms
    /// (<see cref="ChangeLeases"/>), so a farm another run holds is not changed.
    /// Because it wraps the backend at connect time, no cmdlet and no runbook step can skip it.
    /// </summary>
    public sealed partial class AuditingBackend : IFleetBackend
    {
        private readonly IFleetBackend _inner;
        private readonly IAuditSink _sink;
        private readonly string _user;

        public AuditingBackend(IFleetBackend inner, IAuditSink sink, string user, ChangeGuard? guard = null, ChangeLeases? leases = null)
        {
            _inner = inner;
            _sink = sink;
            _user = user;
            Guard = guard ?? ChangeGuard.None;
            Leases = leases ?? ChangeLeases.None;
        }

        /// <summary>The audit outcome's error when Ctrl+C stopped a change before the backend answered.</summary>
        public const string StoppedMidChange =
            "Stopped (Ctrl+C) before the backend answered; if the request had reached it, the change may have been made. Check the fleet.";

        public ChangeGuard Guard { get; }

        /// <summary>The leases every change holds on the farms it touches, taken after approval and before the intent is written.</summary>
        public ChangeLeases Leases { get; }

        public BackendKind Kind => _inner.Kind;

        public string Location => _inner.Location;

        public IClock Clock => _inner.Clock;

        public TimeSpan PollInterval => _inner.PollInterval;

        public bool SnapshotReboots => _inner.SnapshotReboots;

        public IReadOnlyList<Farm> GetFarms(CancellationToken cancellationToken = default) => _inner.GetFarms(cancellationToken);

        public IReadOnlyList<FarmRole> GetFarmRoles(IReadOnlyCollection<string>? farms = null, CancellationToken cancellationToken = default) =>
            _inner.GetFarmRoles(farms, cancellationToken);

        public IReadOnlyList<Role> GetRoles(CancellationToken cancellationToken = default) => _inner.GetRoles(cancellationToken);

        public IReadOnlyList<Server> GetServers(ServerQuery query, CancellationToken cancellationToken = default) => _inner.GetServers(query, cancellationToken);

        public IReadOnlyList<Image> GetImages(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default) =>
            _inner.GetImages(imageIds, cancellationToken);

        public Image CreateImage(Server source, string imageName, bool noReboot = false, CancellationToken cancellationToken = default) => Change(cancellationToken,
            new ChangeIntent
            {
                Action = "CreateImage",
                Target = ChangeIntent.ServerTarget(source.Farm, source.Alias, source.Name),
                Farms = new[] { source.Farm },
                After = $"image {imageName}",
                Description = $"Snapshot server {source} into image {imageName}" + (SnapshotReboots && !noReboot ? " (the server reboots)" : ""),
            },
            () => _inner.CreateImage(source, imageName, noReboot, cancellationToken),
            image => $"image {image.Id} named {imageName}");

        public Role CreateRole(string roleName, Role template, string imageId, string? runId = null, CancellationToken cancellationToken = default) => Change(cancellationToken,
            new ChangeIntent
            {
                Action = "CreateRole",
                Target = ChangeIntent.RoleTarget(roleName),
                After = $"role {roleName} from {template.Name} with image {imageId}",
                Description = $"Create role {roleName}",
            },
            () => _inner.CreateRole(roleName, template, imageId, runId, cancellationToken),
            role => $"role {role.Name} from {template.Name} with image {role.ImageId}");

        public Role SetRoleImage(Role role, string imageId, CancellationToken cancellationToken = default) => Change(cancellationToken,
            new ChangeIntent
            {
                Action = "SetRoleImage",
                Target = ChangeIntent.RoleTarget(role.Name),
                Farms = FarmsRunning(role.Name, cancellationToken),
                Before = role.ImageId,
                After = imageId,
                Description = $"Set the image of role {role.Name} to {imageId}",
            },
            () => _inner.SetRoleImage(role, imageId, cancellationToken),
            changed => changed.ImageId);

        public FarmRole SetFarmRoleRole(FarmRole farmRole, string roleName, CancellationToken cancellationToken = default) => Change(cancellationToken,
            new ChangeIntent
            {
                Action = "SetFarmRoleRole",
                Target = ChangeIntent.FarmRoleTarget(farmRole.Farm, farmRole.Alias),
                Farms = new[] { farmRole.Farm },
                Before = farmRole.Role,
                After = roleName,
                Description = $"Make farm role {farmRole} run role {roleName}",
            },
            () => _inner.SetFarmRoleRole(farmRole, roleName, cancellationToken),
            changed => changed.Role);

        /// <summary>
        /// A batch is one change in the audit log, under the single-server action's name (filters on
        /// LaunchServer keep finding it): one intent before the call, one outcome naming every server.
        /// </summary>
        public IReadOnlyList<Server> LaunchServers(FarmRole farmRole, int count, CancellationToken cancellationToken = default)
        {
            if (count < 1) return Array.Empty<Server>();
            return Change(cancellationToken,
                new ChangeIntent
                {
                    Action = "LaunchServer",
                    Target = ChangeIntent.FarmRoleTarget(farmRole.Farm, farmRole.Alias),
                    Farms = new[] { farmRole.Farm },
                    After = $"{(count == 1 ? "a server" : $"{count} servers")} from role {farmRole.Role}",
                    Description = count == 1 ? $"Launch a server of farm role {farmRole}" : $"Launch {count} servers of farm role {farmRole}",
                },
                () => _inner.LaunchServers(farmRole, count, cancellationToken),
                servers => Named(servers) + $" from role {farmRole.Role}",
                launched: servers => servers);
        }

        public void TerminateServers(IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default)
        {
            if (servers.Count == 0) return;
            var farms = servers.Select(s => s.Farm).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            var farmRoles = servers.Select(s => ChangeIntent.FarmRoleTarget(s.Farm, s.Alias)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            var first = servers.First();
            Change(cancellationToken,
                new ChangeIntent
                {
                    Action = "TerminateServer",
                    // The narrowest target that holds them all, so -Target filters find the batch.
                    Target = servers.Count == 1 ? ChangeIntent.ServerTarget(first.Farm, first.Alias, first.Name)
                        : farmRoles.Count == 1 ? farmRoles[0] : string.Join(",", farms),
                    Farms = farms,
                    Before = Named(servers),
                    After = "terminated",
                    Description = servers.Count == 1 ? $"Terminate server {first} ({first.Id})" : $"Terminate {servers.Count} servers of {string.Join(", ", farmRoles)}",
                },
                () =>
                {
                    _inner.TerminateServers(servers, cancellationToken);
                    return true;
                },
                _ => "terminated",
                servers: Targets(servers));
        }

        /// <summary>
        /// What the backend underneath offers, in a form that keeps this wrapper's promise: a
        /// capability that changes nothing is forwarded as it is; role retirement is handed out
        /// guarded and audited like every other change; any other capability is withheld, so a
        /// new capability that changes the fleet cannot slip past the guard and the audit log.
        /// </summary>
        public T? Capability<T>() where T : class
        {
            if (typeof(T) == typeof(IRoleRetirement))
                return _inner.Capability<IRoleRetirement>() is { } retirement ? (T)(object)new AuditedRetirement(this, retirement) : null;
            if (typeof(T) == typeof(ILoadBalancing))
                return _inner.Capability<ILoadBalancing>() is { } balancing ? (T)(object)new AuditedLoadBalancing(this, balancing) : null;
            if (typeof(T) == typeof(IScalingGroups))
                return _inner.Capability<IScalingGroups>() is { } groups ? (T)(object)new AuditedScalingGroups(this, groups) : null;
            if (typeof(T) == typeof(IFleetIntake))
                return _inner.Capability<IFleetIntake>() is { } intake ? (T)(object)new AuditedIntake(this, intake) : null;
            // Only interfaces: a concrete backend class may also be an IUnauditedCapability, and
            // handing it out would hand out its changes unguarded.
            var forwarded = typeof(T).IsInterface && typeof(IUnauditedCapability).IsAssignableFrom(typeof(T));
            return forwarded ? _inner.Capability<T>() : null;
        }

        public void Dispose() => _inner.Dispose();

        private void DeleteRole(IRoleRetirement retirement, Role role, bool deleteImage, CancellationToken cancellationToken) => Change(cancellationToken,
            new ChangeIntent
            {
                Action = "DeleteRole",
                Target = ChangeIntent.RoleTarget(role.Name),
                Farms = FarmsRunning(role.Name, cancellationToken),
                Before = $"role {role.Name} with image {role.ImageId}",
                After = deleteImage ? "deleted with its image" : "deleted",
                Description = $"Delete role {role.Name}" + (deleteImage ? $" and its image {role.ImageId}" : ""),
            },
            () =>
            {
                retirement.DeleteRole(role, deleteImage, cancellationToken);
                return true;
            },
            _ => deleteImage ? "deleted with its image" : "deleted");

        /// <summary>The backend's role retirement, through the guard and the write-ahead audit.</summary>
        private sealed class AuditedRetirement : IRoleRetirement
        {
            private readonly AuditingBackend _audit;
            private readonly IRoleRetirement _inner;

            public AuditedRetirement(AuditingBackend audit, IRoleRetirement inner)
            {
                _audit = audit;
                _inner = inner;
            }

            public void DeleteRole(Role role, bool deleteImage, CancellationToken cancellationToken = default) =>
                _audit.DeleteRole(_inner, role, deleteImage, cancellationToken);
        }

        /// <summary>
        /// Registering and deregistering change what serves a farm role's traffic: each call is one
        /// change on the farm role, naming its target group and every server, so an interrupted
        /// recycle's log says which servers were left registered or deregistered.
        /// </summary>
        private sealed class AuditedLoadBalancing : ILoadBalancing
        {
            private readonly AuditingBackend _audit;
            private readonly ILoadBalancing _inner;

            public AuditedLoadBalancing(AuditingBackend audit, ILoadBalancing inner)
            {
                _audit = audit;
                _inner = inner;
            }

            public IReadOnlyList<TargetGroupState> ReadTargetGroups(IReadOnlyCollection<string> targetGroups, CancellationToken cancellationToken = default) =>
                _inner.ReadTargetGroups(targetGroups, cancellationToken);

            public void RegisterTargets(FarmRole farmRole, string targetGroup, IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default) =>
                Targets("RegisterTargets", "registered in", farmRole, targetGroup, servers, cancellationToken,
                    () => _inner.RegisterTargets(farmRole, targetGroup, servers, cancellationToken));

            public void DeregisterTargets(FarmRole farmRole, string targetGroup, IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default) =>
                Targets("DeregisterTargets", "deregistered from", farmRole, targetGroup, servers, cancellationToken,
                    () => _inner.DeregisterTargets(farmRole, targetGroup, servers, cancellationToken));

            private void Targets(string action, string verb, FarmRole farmRole, string targetGroup, IReadOnlyCollection<Server> servers, CancellationToken cancellationToken, Action make)
            {
                if (servers.Count == 0) return;
                _audit.Change(cancellationToken,
                    new ChangeIntent
                    {
                        Action = action,
                        Target = ChangeIntent.FarmRoleTarget(farmRole.Farm, farmRole.Alias),
                        Farms = new[] { farmRole.Farm },
                        Before = Named(servers),
                        After = $"{verb} target group {targetGroup}",
                        Description = $"{(action == "RegisterTargets" ? "Register" : "Deregister")} {(servers.Count == 1 ? $"server {servers.First()}" : $"{servers.Count} servers of {farmRole}")} {(action == "RegisterTargets" ? "in" : "from")} target group {targetGroup}",
                    },
                    () =>
                    {
                        make();
                        return true;
                    },
                    _ => $"{verb} target group {targetGroup}",
                    servers: AuditingBackend.Targets(servers));
            }
        }

        private IReadOnlyList<string> FarmsRunning(string roleName, CancellationToken cancellationToken) => _inner.GetFarmRoles(null, cancellationToken)
            .Where(r => string.Equals(r.Role, roleName, StringComparison.OrdinalIgnoreCase))
            .Select(r => r.Farm).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

        /// <param name="servers">A batch's servers known before it runs (terminations), named in the intent.</param>
        /// <param name="launched">A batch's servers known only after it ran (launches), named in the outcome.</param>
        private T Change<T>(CancellationToken cancellation, ChangeIntent intent, Func<T> make, Func<T, string?> after,
            IReadOnlyList<string>? servers = null, Func<T, IReadOnlyList<Server>>? launched = null)
        {
            cancellation.ThrowIfCancellationRequested(); // stopped already: announce nothing
            Guard.Check(intent);
            // Refused as busy here, nothing is announced and nothing changes.
            using var lease = Leases.Hold(intent.Farms, $"{intent.Action} {intent.Target}");
            var announced = Entry(intent) with
            {
                ChangeId = Guid.NewGuid().ToString("N").Substring(0, 16),
                IsIntent = true,
                Servers = servers ?? Array.Empty<string>(),
            };
            _sink.Write(announced); // throws TtmAuditFailed: then nothing has changed
            T result;
            try
            {
                result = make();
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C while the backend had the request: it may have acted before the answer
                // was dropped, so the outcome says where to look rather than that nothing changed.
                Outcome(announced with { IsIntent = false, Outcome = AuditOutcome.Failed, Error = StoppedMidChange });
                throw;
            }
            catch (LaunchIncompleteException e)
            {
                // Part of the batch runs: the log names those servers, so they can be found and used or cleaned up.
                Outcome(announced with
                {
                    IsIntent = false, Outcome = AuditOutcome.Failed, Error = e.Message,
                    After = e.Launched.Count == 0 ? announced.After : Named(e.Launched) + " launched before the failure",
                    Servers = Targets(e.Launched),
                });
                throw;
            }
            catch (Exception e)
            {
                Outcome(announced with { IsIntent = false, Outcome = AuditOutcome.Failed, Error = e.Message });
                throw;
            }
            Outcome(announced with
            {
                IsIntent = false, Outcome = AuditOutcome.Done, After = after(result),
                Servers = launched == null ? announced.Servers : Targets(launched(result)),
            });
            return result;
        }

        private static string Named(IEnumerable<Server> servers) => string.Join(", ", servers.Select(s => $"{s.Name} ({s.Id})"));

        private static IReadOnlyList<string> Targets(IEnumerable<Server> servers) =>
            servers.Select(s => ChangeIntent.ServerTarget(s.Farm, s.Alias, s.Name)).ToList();

        // The change is made (or failed) by now: an outcome that cannot be written must not turn a
        // made change into an error (its caller would think nothing happened). The intent line
        // already says it was attempted; Get-TtmAuditLog shows it with an Unknown outcome.
        private void Outcome(AuditEntry entry)
        {
            try
            {
                _sink.Write(entry with { Time = _inner.Clock.UtcNow });
            }
            catch (TtmException)
            {
            }
        }

        private AuditEntry Entry(ChangeIntent intent) => new AuditEntry
        {
            Time = _inner.Clock.UtcNow,
            User = _user,
            Backend = Kind.ToString(),
            Location = Location,
            Action = intent.Action,
            Target = intent.Target,
            Farms = intent.Farms,
            Before = intent.Before,
            After = intent.After,
        };
    }
}

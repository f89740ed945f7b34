using System;
using System.Collections.Generic;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Runbook;

namespace Rebundle.Audit
{
    /// <summary>
    /// Wraps a backend so that every change any cmdlet makes is written to the audit log after it
    /// succeeds. Reads pass straight through. Because it wraps the backend at connect time, no
    /// cmdlet can forget to audit.
    /// </summary>
    public sealed class AuditingBackend : IFleetBackend, IImageLookup, IRoleRetirement
    {
        private readonly IFleetBackend _inner;
        private readonly IAuditSink _sink;
        private readonly string _user;

        public AuditingBackend(IFleetBackend inner, IAuditSink sink, string user)
        {
            _inner = inner;
            _sink = sink;
            _user = user;
        }

        /// <summary>The backend underneath (for backend-specific commands such as Set-TtmSandbox).</summary>
        public IFleetBackend Inner => _inner;

        public string Kind => _inner.Kind;

        public string Location => _inner.Location;

        public IClock Clock => _inner.Clock;

        public TimeSpan PollInterval => _inner.PollInterval;

        public IReadOnlyList<Farm> GetFarms() => _inner.GetFarms();

        public IReadOnlyList<FarmRole> GetFarmRoles(IReadOnlyCollection<string>? farms = null) => _inner.GetFarmRoles(farms);

        public IReadOnlyList<Role> GetRoles() => _inner.GetRoles();

        public IReadOnlyList<Server> GetServers(ServerQuery query) => _inner.GetServers(query);

        public IReadOnlyList<Image> GetImages(IReadOnlyCollection<string> imageIds) => _inner.GetImages(imageIds);

        public Image CreateImage(Server source, string imageName)
        {
            var image = _inner.CreateImage(source, imageName);
            Log("CreateImage", $"server {source.Farm}/{source.Name} ({source.Id})", null, $"image {image.Id} named {imageName}");
            return image;
        }

        public Role CreateRole(string roleName, Role template, string imageId, string? runId = null)
        {
            var role = _inner.CreateRole(roleName, template, imageId, runId);
            Log("CreateRole", $"role {roleName}", null, $"role {role.Name} from {template.Name} with image {imageId}");
            return role;
        }

        public Role SetRoleImage(Role role, string imageId)
        {
            var changed = _inner.SetRoleImage(role, imageId);
            Log("SetRoleImage", $"role {role.Name}", role.ImageId, changed.ImageId);
            return changed;
        }

        public FarmRole SetFarmRoleRole(FarmRole farmRole, string roleName)
        {
            var changed = _inner.SetFarmRoleRole(farmRole, roleName);
            Log("SetFarmRoleRole", $"{farmRole.Farm}/{farmRole.Alias}", farmRole.Role, changed.Role);
            return changed;
        }

        public Server LaunchServer(FarmRole farmRole)
        {
            var server = _inner.LaunchServer(farmRole);
            Log("LaunchServer", $"{farmRole.Farm}/{farmRole.Alias}", null, $"{server.Name} ({server.Id}) from role {server.Role}");
            return server;
        }

        public void TerminateServer(Server server)
        {
            _inner.TerminateServer(server);
            Log("TerminateServer", $"{server.Farm}/{server.Alias}", $"{server.Name} ({server.Id})", "terminated");
        }

        public IReadOnlyList<Image> FindImagesByName(string name) =>
            _inner is IImageLookup lookup ? lookup.FindImagesByName(name) : Array.Empty<Image>();

        public void DeleteRole(Role role, bool deleteImage)
        {
            if (!(_inner is IRoleRetirement retirement))
                throw new Errors.TtmException(Errors.TtmErrorCode.InvalidArgument, $"The {Kind} backend cannot delete roles.", role.Name);
            retirement.DeleteRole(role, deleteImage);
            Log("DeleteRole", $"role {role.Name}", $"role {role.Name} with image {role.ImageId}", deleteImage ? "deleted with its image" : "deleted");
        }

        /// <summary>Whether the backend underneath can retire roles.</summary>
        public bool CanRetireRoles => _inner is IRoleRetirement;

        public void Dispose() => _inner.Dispose();

        private void Log(string action, string target, string? before, string? after) => _sink.Write(new AuditEntry
        {
            Time = _inner.Clock.UtcNow,
            User = _user,
            Backend = Kind,
            Location = Location,
            Action = action,
            Target = target,
            Before = before,
            After = after,
        });
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Scalr
{
    // Roles, images and snapshots. The runbook speaks of AMIs ("the image name starts with
    // ami-"), so Role.ImageId and Image.Id are EC2 image ids; Scalr's own image UUIDs stay
    // inside this class.
    public sealed partial class ScalrBackend
    {
        private const int ParallelRoleReads = 4;

        public IReadOnlyList<Role> GetRoles(CancellationToken cancellationToken = default)
        {
            var roles = ListRoles(cancellationToken);
            var images = ListImages(cancellationToken).ToDictionary(i => i.Id, StringComparer.Ordinal);
            // Scalr keeps a role's images under the role, so each role is one (paged) list call.
            var imageOf = roles
                .AsParallel().AsOrdered().WithDegreeOfParallelism(ParallelRoleReads)
                .Select(r => (role: r, image: PickImage(RoleImageIds(r.Id, cancellationToken).Select(id => images.TryGetValue(id, out var i) ? i : null))))
                .ToList();
            var result = new List<Role>();
            foreach (var (role, image) in imageOf)
            {
                if (!IsRoleName(role.Name)) continue; // Scalr allows names the runbook never uses (spaces); they are not ours.
                result.Add(Role.Named(role.Name, image?.CloudImageId ?? "", role.Id, role.Added) with { CreatedByRun = RunIdOf(role.Description) });
            }
            return result;
        }

        public IReadOnlyList<Image> GetImages(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default)
        {
            if (imageIds.Count == 0) return Array.Empty<Image>();
            var wanted = new HashSet<string>(imageIds, StringComparer.Ordinal);
            var registered = ListImages(cancellationToken).Where(i => wanted.Contains(i.CloudImageId)).GroupBy(i => i.CloudImageId).ToDictionary(g => g.Key, g => g.First());
            var found = new Dictionary<string, Image>(StringComparer.Ordinal);

            // Images this session made are still being made in EC2: EC2 knows their state.
            // Images Scalr has registered are usable as Scalr says.
            Dictionary<string, string> regions;
            lock (_gate) regions = wanted.Where(_ec2Regions.ContainsKey).ToDictionary(id => id, id => _ec2Regions[id]);
            foreach (var group in regions.GroupBy(p => p.Value))
            {
                foreach (var image in _ec2.Describe(group.Key, group.Select(p => p.Key).ToList(), cancellationToken))
                    found[image.Id] = image;
            }
            foreach (var pair in registered.Where(p => !found.ContainsKey(p.Key)))
                found[pair.Key] = FromScalr(pair.Value);

            // Anything else is asked of EC2 in the configured region, when there is one.
            var unknown = wanted.Where(id => !found.ContainsKey(id)).ToList();
            if (unknown.Count > 0 && !string.IsNullOrWhiteSpace(_options.AwsRegion))
            {
                foreach (var image in _ec2.Describe(_options.AwsRegion!, unknown, cancellationToken))
                    found[image.Id] = image;
            }
            return imageIds.Where(found.ContainsKey).Select(id => found[id]).ToList();
        }

        public Image CreateImage(Server source, string imageName, bool noReboot = false, CancellationToken cancellationToken = default)
        {
            // The domain server carries Scalr's id; the instance behind it is one GET away.
            var server = ScalrServer.From(_client.Get($"servers/{source.Id}/", null, cancellationToken));
            if (string.IsNullOrEmpty(server.CloudServerId) || StatusOf(server.Status) != ServerStatus.Running)
                throw new TtmException(TtmErrorCode.ServerNotRunning,
                    $"Server {source.Name} of farm {source.Farm} is {server.Status} in Scalr and has no running instance to snapshot. Wait until it runs, then try again.", source.Name);
            var region = _ec2.RegionFor(server.CloudLocation ?? source.Region);
            var amiId = _ec2.CreateImage(region, server.CloudServerId, imageName, imageName, source.Name, noReboot, cancellationToken);
            lock (_gate) _ec2Regions[amiId] = region;
            return new Image { Id = amiId, Name = imageName, Status = ImageStatus.Pending, CreatedAt = Clock.UtcNow, SourceServerId = source.Id };
        }

        public Role CreateRole(string roleName, Role template, string imageId, string? runId = null, CancellationToken cancellationToken = default)
        {
            // Checked first, so a duplicate name registers no image (Scalr itself would refuse the POST with a 409).
            if (ListRoles(cancellationToken).Any(r => string.Equals(r.Name, roleName, StringComparison.OrdinalIgnoreCase)))
                throw new TtmException(TtmErrorCode.RoleAlreadyExists, $"Scalr has a role named '{roleName}' already; a role is never overwritten. Pick another version.", roleName);
            var source = ScalrRole.From(_client.Get($"roles/{template.Id}/", null, cancellationToken));
            var image = EnsureRegistered(imageId, roleName, source.OsId, ListImages(cancellationToken), cancellationToken);
            var created = ScalrRole.From(_client.Post("roles/", new Dictionary<string, object?>
            {
                ["name"] = roleName,
                ["description"] = $"Snapshot of role {template.Name} made by Rebundle" + (runId == null ? "" : RunIdMarker + runId),
                ["category"] = source.CategoryId == null ? null : new { id = JsonId(source.CategoryId) },
                ["os"] = source.OsId == null ? null : new { id = source.OsId },
                ["builtinAutomation"] = source.BuiltinAutomation,
            }, cancellationToken));
            try
            {
                _client.Post($"roles/{created.Id}/images/", RoleImage(created.Id, image.Id), cancellationToken);
            }
            catch (Exception e) when (e is TtmException || e is OperationCanceledException)
            {
                // A role without its image must not be left behind, not even after Ctrl+C: take it
                // away again, on no token (this is what makes the stop clean).
                try { _client.Send(System.Net.Http.HttpMethod.Delete, _client.PathAndQuery($"roles/{created.Id}/", null), null).Dispose(); }
                catch (TtmException) { /* the first error is the one to report */ }
                throw;
            }
            return Role.Named(created.Name, imageId, created.Id, created.Added ?? Clock.UtcNow) with { CreatedByRun = runId };
        }

        // Scalr roles have no tags: the run that made a role is the description's last words.
        private const string RunIdMarker = " in rebundle run ";

        private static string? RunIdOf(string? description)
        {
            var at = description?.LastIndexOf(RunIdMarker, StringComparison.Ordinal) ?? -1;
            return at < 0 ? null : description!.Substring(at + RunIdMarker.Length).Trim();
        }

        public Role SetRoleImage(Role role, string imageId, CancellationToken cancellationToken = default)
        {
            var source = ScalrRole.From(_client.Get($"roles/{role.Id}/", null, cancellationToken));
            var images = ListImages(cancellationToken);
            var image = EnsureRegistered(imageId, role.Name, source.OsId, images, cancellationToken);
            var current = RoleImageIds(role.Id, cancellationToken);
            if (current.Contains(image.Id)) return role with { ImageId = imageId };
            var byId = images.ToDictionary(i => i.Id, StringComparer.Ordinal);
            var old = PickImage(current.Select(id => byId.TryGetValue(id, out var i) ? i : null));
            if (old == null)
                _client.Post($"roles/{role.Id}/images/", RoleImage(role.Id, image.Id), cancellationToken);
            else
                _client.Post($"roles/{role.Id}/images/{old.Id}/actions/replace/", RoleImage(role.Id, image.Id), cancellationToken);
            return role with { ImageId = imageId };
        }

        /// <summary>Scalr's RoleImage object, the body of the add and replace routes.</summary>
        private static object RoleImage(string roleId, string imageId) => new { role = new { id = JsonId(roleId) }, image = new { id = imageId } };

        /// <summary>The Scalr image for an AMI, registered (images/ POST) if Scalr does not know it yet.</summary>
        private ScalrImage EnsureRegistered(string amiId, string name, string? osId, IReadOnlyList<ScalrImage> images, CancellationToken cancellationToken)
        {
            var known = images.FirstOrDefault(i => string.Equals(i.CloudImageId, amiId, StringComparison.Ordinal));
            if (known != null) return known;
            string? region;
            lock (_gate) _ec2Regions.TryGetValue(amiId, out region);
            region ??= _options.AwsRegion;
            return ScalrImage.From(_client.Post("images/", new Dictionary<string, object?>
            {
                ["name"] = name,
                ["cloudImageId"] = amiId,
                ["cloudPlatform"] = "ec2",
                ["cloudLocation"] = region,
                ["architecture"] = "x86_64",
                ["os"] = osId == null ? null : new { id = osId },
            }, cancellationToken));
        }

        /// <summary>Of a role's images (one per cloud location), the one for -AwsRegion, else the first.</summary>
        private ScalrImage? PickImage(IEnumerable<ScalrImage?> images)
        {
            var list = images.Where(i => i != null).Select(i => i!).ToList();
            return list.FirstOrDefault(i => string.Equals(i.CloudLocation, _options.AwsRegion, StringComparison.OrdinalIgnoreCase)) ?? list.FirstOrDefault();
        }

        private IReadOnlyList<string> RoleImageIds(string roleId, CancellationToken cancellationToken) =>
            _client.List($"roles/{roleId}/images/", null, cancellationToken).Select(e => Json.RefId(e, "image")).Where(id => id.Length > 0).ToList();

        private IReadOnlyList<ScalrRole> ListRoles(CancellationToken cancellationToken) => _client.List("roles/", null, cancellationToken).Select(ScalrRole.From).ToList();

        private IReadOnlyList<ScalrImage> ListImages(CancellationToken cancellationToken) => _client.List("images/", null, cancellationToken).Select(ScalrImage.From).ToList();

        /// <summary>Role id → name, for the farm roles (which name their role by id only).</summary>
        private IReadOnlyDictionary<string, string> RoleNames(CancellationToken cancellationToken) =>
            ListRoles(cancellationToken).GroupBy(r => r.Id).ToDictionary(g => g.Key, g => g.First().Name, StringComparer.Ordinal);

        private ScalrRole FindScalrRole(string roleName, CancellationToken cancellationToken) =>
            ListRoles(cancellationToken).FirstOrDefault(r => string.Equals(r.Name, roleName, StringComparison.OrdinalIgnoreCase))
            ?? throw new TtmException(TtmErrorCode.RoleNotFound, $"Scalr has no role named '{roleName}'. Run Get-TtmRole -IncludeVersions to list roles.", roleName);

        private static Image FromScalr(ScalrImage image) => new Image
        {
            Id = image.CloudImageId,
            Name = image.Name,
            // Scalr registers only images that exist; "active" is usable, a status error is not.
            Status = string.IsNullOrEmpty(image.StatusError) && (image.Status == null || image.Status == "active") ? ImageStatus.Available : ImageStatus.Failed,
            StatusReason = image.StatusError,
            CreatedAt = image.Added,
        };

        private static bool IsRoleName(string name)
        {
            try { RoleName.Parse(name); return true; }
            catch (TtmException) { return false; }
        }
    }
}

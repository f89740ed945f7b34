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
            // The rest one filtered read each (a poll reads what it waits for, not every image),
            // except while lists are shared (the fleet report): then the image list GetRoles read.
            var rest = wanted.Where(id => !found.ContainsKey(id)).ToList();
            if (_client.IsSharingLists)
            {
                foreach (var registered in ListImages(cancellationToken).Where(i => rest.Contains(i.CloudImageId, StringComparer.Ordinal)))
                    if (!found.ContainsKey(registered.CloudImageId)) found[registered.CloudImageId] = FromScalr(registered);
            }
            else
            {
                foreach (var id in rest)
                {
                    if (RegisteredImage(id, cancellationToken) is { } registered) found[id] = FromScalr(registered);
                }
            }

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
            if (RoleNamed(roleName, cancellationToken) != null)
                throw new TtmException(TtmErrorCode.RoleAlreadyExists, $"Scalr has a role named '{roleName}' already; a role is never overwritten. Pick another version.", roleName);
            var source = ScalrRole.From(_client.Get($"roles/{template.Id}/", null, cancellationToken));
            var body = RoleBody(roleName, template.Name, source, runId); // refused here, before anything is made
            var image = EnsureRegistered(imageId, roleName, source, cancellationToken);
            var created = PostOnce($"the creation of role {roleName}",
                () => ScalrRole.From(_client.Post("roles/", body, cancellationToken)),
                () => RoleNamed(roleName, cancellationToken), cancellationToken);
            try
            {
                PostOnce($"adding image {imageId} to role {roleName}",
                    () => { _client.Post($"roles/{created.Id}/images/", RoleImage(created.Id, image.Id), cancellationToken); return Done.Instance; },
                    () => RoleImageIds(created.Id, cancellationToken).Contains(image.Id) ? Done.Instance : null, cancellationToken);
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

        /// <summary>
        /// Scalr's Role body for the new version: category, os, agent and automation as the role it
        /// is made from has them. Scalr requires category and os (and, with its agent, the
        /// automation), so a source role without them is refused here, before anything is sent.
        /// </summary>
        private static Dictionary<string, object> RoleBody(string roleName, string templateName, ScalrRole source, string? runId)
        {
            var missing = new[] { source.CategoryId == null ? "category" : null, source.OsId == null ? "os" : null }.Where(m => m != null).ToList();
            if (missing.Count > 0)
                throw new TtmException(TtmErrorCode.BackendError,
                    $"Role {templateName} in Scalr has no {string.Join(" and no ", missing)}, which Scalr needs to make role {roleName} from it. Set them on {templateName} in Scalr, then try again.",
                    templateName);
            var body = new Dictionary<string, object>
            {
                ["name"] = roleName,
                ["description"] = $"Snapshot of role {templateName} made by Rebundle" + (runId == null ? "" : RunIdMarker + runId),
                ["category"] = new { id = JsonId(source.CategoryId!) },
                ["os"] = new { id = source.OsId! },
                ["useScalrAgent"] = source.UseScalrAgent,
            };
            if (source.UseScalrAgent) body["builtinAutomation"] = source.BuiltinAutomation;
            return body;
        }

        // Scalr roles have no tags: the run that made a role is the description's last words.
        private const string RunIdMarker = " in rebundle run ";

        private static string? RunIdOf(string? description)
        {
            var at = description?.LastIndexOf(RunIdMarker, StringComparison.Ordinal) ?? -1;
            return at < 0 ? null : description!.Substring(at + RunIdMarker.Length).Trim();
        }

        /// <summary>
        /// The role's image in the new image's cloud location is replaced (Scalr keeps one image
        /// per location and replaces only within it). A role with images elsewhere only is refused,
        /// saying where; a role without images gets the image added.
        /// </summary>
        public Role SetRoleImage(Role role, string imageId, CancellationToken cancellationToken = default)
        {
            var source = ScalrRole.From(_client.Get($"roles/{role.Id}/", null, cancellationToken));
            var image = EnsureRegistered(imageId, role.Name, source, cancellationToken);
            var current = RoleImageIds(role.Id, cancellationToken);
            if (current.Contains(image.Id)) return role with { ImageId = imageId };
            var images = current.Select(id => ScalrImage.From(_client.Get($"images/{id}/", null, cancellationToken))).ToList();
            var old = images.FirstOrDefault(i => string.Equals(i.CloudLocation, image.CloudLocation, StringComparison.OrdinalIgnoreCase));
            if (old == null && images.Count > 0)
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    $"Role {role.Name} has images in {string.Join(", ", images.Select(i => i.CloudLocation ?? "(no location)").Distinct())} only; image {imageId} is in {image.CloudLocation ?? "(no location)"}. " +
                    $"Scalr replaces a role's image only within its cloud location: use an image made in {images[0].CloudLocation} (Connect-TtmFleet -AwsRegion {images[0].CloudLocation}).",
                    imageId);
            var route = old == null ? $"roles/{role.Id}/images/" : $"roles/{role.Id}/images/{old.Id}/actions/replace/";
            PostOnce(old == null ? $"adding image {imageId} to role {role.Name}" : $"replacing the image of role {role.Name}",
                () => { _client.Post(route, RoleImage(role.Id, image.Id), cancellationToken); return Done.Instance; },
                () => RoleImageIds(role.Id, cancellationToken).Contains(image.Id) ? Done.Instance : null, cancellationToken);
            return role with { ImageId = imageId };
        }

        /// <summary>Scalr's RoleImage object, the body of the add and replace routes.</summary>
        private static object RoleImage(string roleId, string imageId) => new { role = new { id = JsonId(roleId) }, image = new { id = imageId } };

        /// <summary>
        /// The Scalr image for an AMI, registered (POST images/) if Scalr does not know it yet, with
        /// the os of the role it is for. A lost answer, or another registration first, is settled by
        /// reading the image by cloudImageId.
        /// </summary>
        private ScalrImage EnsureRegistered(string amiId, string name, ScalrRole role, CancellationToken cancellationToken)
        {
            if (RegisteredImage(amiId, cancellationToken) is { } known) return known;
            string? region;
            lock (_gate) _ec2Regions.TryGetValue(amiId, out region);
            region ??= _options.AwsRegion;
            var body = new Dictionary<string, object>
            {
                ["name"] = name,
                ["cloudImageId"] = amiId,
                ["cloudPlatform"] = "ec2",
                // The runbook's AMIs are 64-bit (CreateImage keeps the instance's architecture).
                ["architecture"] = "x86_64",
                ["os"] = new { id = role.OsId ?? throw new TtmException(TtmErrorCode.BackendError, $"Role {role.Name} in Scalr has no os, which Scalr needs to register image {amiId}. Set it in Scalr, then try again.", role.Name) },
            };
            if (!string.IsNullOrEmpty(region)) body["cloudLocation"] = region!;
            try
            {
                return PostOnce($"the registration of image {amiId}", () => ScalrImage.From(_client.Post("images/", body, cancellationToken)), () => RegisteredImage(amiId, cancellationToken), cancellationToken);
            }
            catch (TtmException e) when (e.BackendCode == "UnicityViolation" && RegisteredImage(amiId, cancellationToken) is { } registered)
            {
                return registered; // registered meanwhile (by us before a lost answer, or by someone else)
            }
            catch (TtmException e) when (e.BackendCode == "InvalidValue")
            {
                // Scalr checks the AMI with the environment's own cloud credentials, which may be
                // another AWS account than the operator's that made it.
                var made = string.IsNullOrWhiteSpace(_options.AwsProfileName) ? "the AWS SDK's default credentials" : $"AWS profile '{_options.AwsProfileName}' (-AwsProfileName)";
                throw new TtmException(TtmErrorCode.BackendError,
                    $"{e.Message} Image {amiId} was made in {region ?? "the server's region"} with {made}; Scalr checks it with the cloud credentials of environment {_options.EnvironmentId}. " +
                    $"If those are another AWS account, share the image with that account (or connect with -AwsProfileName for the environment's account) and snapshot again; the image {amiId} stays in EC2 until you deregister it.",
                    amiId, e) { BackendCode = e.BackendCode };
            }
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

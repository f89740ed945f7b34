using System.Globalization;
using Amazon.EC2;
using Amazon.EC2.Model;
using Rebundle.Aws.Ec2;
using Rebundle.Domain;
using Rebundle.Errors;
using Image = Rebundle.Domain.Image;

namespace Rebundle.Aws
{
    /// <summary>The changes: each is one object, done so that a failure leaves nothing half-made.</summary>
    public sealed partial class AwsBackend
    {
        public Image CreateImage(Server source, string imageName, bool noReboot = false, CancellationToken cancellationToken = default)
        {
            var role = TtmTags.RoleOfImageName(imageName);
            var tags = new List<Tag> { TtmTags.Tag(TtmTags.Role, role), TtmTags.Tag(TtmTags.SourceInstance, source.Id) };
            try
            {
                var response = _calls.Call($"Creating image {imageName} of server {source.Name} ({source.Id})", cancellationToken, (ec2, cancel) => ec2.CreateImageAsync(new CreateImageRequest
                {
                    InstanceId = source.Id,
                    Name = imageName,
                    NoReboot = noReboot,
                    Description = $"Rebundle snapshot of {source.Farm}/{source.Name} ({source.Id}) for role {role}",
                    // Tag the snapshots too, so the console shows what each snapshot belongs to.
                    TagSpecifications = new List<TagSpecification>
                    {
                        new TagSpecification { ResourceType = ResourceType.Image, Tags = tags },
                        new TagSpecification { ResourceType = ResourceType.Snapshot, Tags = tags },
                    },
                }, cancel), source.Name, TtmErrorCode.ServerNotFound);
                var image = new Image { Id = response.ImageId, Name = imageName, Status = ImageStatus.Pending, CreatedAt = Clock.UtcNow, SourceServerId = source.Id };
                _unseen.RememberImage(image); // waited for (Pending) even while DescribeImages does not list it yet
                return image;
            }
            catch (TtmException e) when (e.BackendCode == "InvalidAMIName.Duplicate")
            {
                // CreateImage has no client token: when a retry (or an earlier run) already made this
                // image from this very server and it is not failed, carry on with that one.
                return ExistingImage(imageName, source.Id, cancellationToken) ?? throw e;
            }
        }

        /// <summary>
        /// The image of this name made from this server, not failed. EC2 may not list an image made
        /// a moment ago (the retried request's first attempt): it is looked for again, once a poll
        /// interval, for up to a minute.
        /// </summary>
        private Image? ExistingImage(string imageName, string sourceInstanceId, CancellationToken cancellationToken)
        {
            var until = Clock.UtcNow + TimeSpan.FromMinutes(1);
            while (true)
            {
                var found = FindExistingImage(imageName, sourceInstanceId, cancellationToken);
                if (found != null || Clock.UtcNow >= until) return found;
                Clock.Sleep(PollInterval, cancellationToken);
            }
        }

        private Image? FindExistingImage(string imageName, string sourceInstanceId, CancellationToken cancellationToken) =>
            _calls.Call($"Reading image {imageName}", cancellationToken, (ec2, cancel) => ec2.DescribeImagesAsync(new DescribeImagesRequest
            {
                Owners = new List<string> { "self" },
                Filters = new List<Filter> { TtmTags.Filter("name", imageName), TtmTags.TagFilter(TtmTags.SourceInstance, new[] { sourceInstanceId }) },
            }, cancel)).Images?
                .Select(AwsMapping.ImageOf)
                .FirstOrDefault(i => i.Status != ImageStatus.Failed);

        /// <summary>
        /// Launch template <c>role/&lt;roleName&gt;</c> with every launch setting of the template
        /// role's default version and the new image. One CreateLaunchTemplate call: it either
        /// exists afterwards, complete, or not at all.
        /// </summary>
        public Role CreateRole(string roleName, Role template, string imageId, string? runId = null, CancellationToken cancellationToken = default)
        {
            // Snapshots of five servers of one role copy its settings five times: in a shared view, read once.
            var source = _shared.Once(AwsSharedReads.LaunchSettings + template.Name, () => _calls.Call($"Reading the launch settings of role {template.Name}", cancellationToken, (ec2, cancel) => ec2.DescribeLaunchTemplateVersionsAsync(new DescribeLaunchTemplateVersionsRequest
            {
                LaunchTemplateName = TtmTags.RoleTemplate(template.Name),
                Versions = new List<string> { "$Default" },
            }, cancel), template.Name, TtmErrorCode.RoleNotFound).LaunchTemplateVersions?.FirstOrDefault()
                ?? throw new TtmException(TtmErrorCode.RoleNotFound, $"Role {template.Name} has no default launch template version; fix launch template {TtmTags.RoleTemplate(template.Name)} in the console.", template.Name));

            var tags = new List<Tag> { TtmTags.Tag(TtmTags.Kind, TtmTags.KindRole), TtmTags.Tag(TtmTags.Role, roleName) };
            if (runId != null) tags.Add(TtmTags.Tag(TtmTags.RunId, runId));
            var data = LaunchDataCopy.ToRequest(source.LaunchTemplateData);
            data.ImageId = imageId;
            var created = _calls.Call($"Creating role {roleName}", cancellationToken, (ec2, cancel) => ec2.CreateLaunchTemplateAsync(new CreateLaunchTemplateRequest
            {
                LaunchTemplateName = TtmTags.RoleTemplate(roleName),
                VersionDescription = $"Image {imageId}, launch settings of role {template.Name}",
                LaunchTemplateData = data,
                ClientToken = Guid.NewGuid().ToString(),
                TagSpecifications = new List<TagSpecification>
                {
                    new TagSpecification
                    {
                        ResourceType = ResourceType.LaunchTemplate,
                        Tags = tags,
                    },
                },
            }, cancel), roleName).LaunchTemplate;
            var role = Role.Named(roleName, imageId, created.LaunchTemplateName, AwsMapping.TimeOf(created.CreateTime) ?? Clock.UtcNow) with { CreatedByRun = runId };
            _unseen.RememberRole(role);
            _shared.Changed(AwsSharedReads.Roles);
            return role;
        }

        /// <summary>A new version of the role's template, copied from the default with the new image, made the default.</summary>
        public Role SetRoleImage(Role role, string imageId, CancellationToken cancellationToken = default)
        {
            // Whether it gets as far as the new default or not, the role is read again afterwards.
            try
            {
                return ReplaceRoleImage(role, imageId, cancellationToken);
            }
            finally
            {
                _shared.Changed(AwsSharedReads.Roles);
                _shared.Changed(AwsSharedReads.LaunchSettings + role.Name);
            }
        }

        private Role ReplaceRoleImage(Role role, string imageId, CancellationToken cancellationToken)
        {
            var name = TtmTags.RoleTemplate(role.Name);
            var template = _calls.Call($"Reading role {role.Name}", cancellationToken, (ec2, cancel) => ec2.DescribeLaunchTemplatesAsync(new DescribeLaunchTemplatesRequest
            {
                LaunchTemplateNames = new List<string> { name },
            }, cancel), role.Name, TtmErrorCode.RoleNotFound).LaunchTemplates?.FirstOrDefault()
                ?? throw new TtmException(TtmErrorCode.RoleNotFound, $"There is no launch template {name} for role {role.Name}.", role.Name);

            var version = _calls.Call($"Adding image {imageId} to role {role.Name}", cancellationToken, (ec2, cancel) => ec2.CreateLaunchTemplateVersionAsync(new CreateLaunchTemplateVersionRequest
            {
                LaunchTemplateId = template.LaunchTemplateId,
                SourceVersion = (template.DefaultVersionNumber ?? 1).ToString(CultureInfo.InvariantCulture),
                VersionDescription = $"Image {imageId} (was {role.ImageId})",
                ClientToken = Guid.NewGuid().ToString(), // a retried request adds one version, not two
                LaunchTemplateData = new RequestLaunchTemplateData { ImageId = imageId },
            }, cancel), role.Name).LaunchTemplateVersion;

            // Until this call succeeds the role still launches from its old default version; the
            // new version is only history, so a failure here leaves the role as it was.
            _calls.Call($"Making image {imageId} the default of role {role.Name}", cancellationToken, (ec2, cancel) => ec2.ModifyLaunchTemplateAsync(new ModifyLaunchTemplateRequest
            {
                LaunchTemplateId = template.LaunchTemplateId,
                DefaultVersion = (version.VersionNumber ?? 0).ToString(CultureInfo.InvariantCulture),
            }, cancel), role.Name);
            return role with { ImageId = imageId };
        }

        /// <summary>Rewrites the farm role's ttm:role tag, after checking that both templates exist.</summary>
        public FarmRole SetFarmRoleRole(FarmRole farmRole, string roleName, CancellationToken cancellationToken = default)
        {
            var farmRoleName = TtmTags.FarmRoleTemplate(farmRole.Farm, farmRole.Alias);
            var roleTemplateName = TtmTags.RoleTemplate(roleName);
            var found = _reads.Templates($"Reading farm role {farmRole}", cancellationToken, new List<Filter> { TtmTags.Filter("launch-template-name", farmRoleName, roleTemplateName) });
            var target = found.FirstOrDefault(t => t.LaunchTemplateName == farmRoleName)
                ?? throw new TtmException(TtmErrorCode.FarmRoleNotFound, $"There is no launch template {farmRoleName} for farm role {farmRole}; run Get-TtmFarmRole -Farm {farmRole.Farm} to list farm roles.", farmRole.ToString());
            if (found.All(t => t.LaunchTemplateName != roleTemplateName) && _unseen.UnseenRole(roleName) == null)
                throw new TtmException(TtmErrorCode.RoleNotFound, $"There is no role {roleName} (no launch template {roleTemplateName}); farm role {farmRole} was left alone. Run Get-TtmRole -IncludeVersions to list roles.", roleName);

            // A group first: until it launches from the new role, the farm role still says the old one, which is true.
            var current = AwsMapping.FarmRoleOf(target);
            if (current?.ScalingGroup != null) _scaling.SetRole(current, roleName, cancellationToken);
            _calls.Call($"Setting farm role {farmRole} to run role {roleName}", cancellationToken, (ec2, cancel) => ec2.CreateTagsAsync(new CreateTagsRequest
            {
                Resources = new List<string> { target.LaunchTemplateId },
                Tags = new List<Tag> { TtmTags.Tag(TtmTags.Role, roleName) },
            }, cancel), farmRole.ToString(), TtmErrorCode.FarmRoleNotFound);
            _shared.Changed(AwsSharedReads.FarmRoles);
            return farmRole with { Role = roleName };
        }
    }
}

using System.Globalization;
using Amazon.EC2;
using Amazon.EC2.Model;
using Rebundle.Aws.AutoScaling;
using Rebundle.Aws.Ec2;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Aws
{
    /// <summary>
    /// Brings a fleet made without Rebundle under it (<see cref="IFleetIntake"/>; docs/aws.md,
    /// "From an existing fleet"). A role is a new role/&lt;Name&gt; template, from an image or as a
    /// copy of an existing template's default version. A farm role is made in the order that
    /// leaves nothing half-known when a run is killed: the servers are tagged first (farm, alias,
    /// role, index, Name), then a group is pointed at the role and tagged to pass the farm-role
    /// tags on to what it launches, and only then is the farm-role template made — so the farm
    /// role appears complete or not at all, and running the same command again finishes the job.
    /// </summary>
    internal sealed class AwsFleetIntake : IFleetIntake
    {
        private readonly Ec2Calls _calls;
        private readonly Ec2Reads _reads;
        private readonly AwsScalingGroups _scaling;
        private readonly AwsSharedReads _shared;
        private readonly UnseenObjects _unseen;
        private readonly string _region;
        private readonly Runbook.IClock _clock;
        private readonly TimeSpan _poll;

        /// <summary>How long a new farm role may take to show in EC2's lists (seconds, as a rule) before New-TtmFarmRole returns anyway.</summary>
        internal static readonly TimeSpan ListedWithin = TimeSpan.FromMinutes(2);

        public AwsFleetIntake(Ec2Calls calls, Ec2Reads reads, AwsScalingGroups scaling, AwsSharedReads shared, UnseenObjects unseen, string region, Runbook.IClock clock, TimeSpan pollInterval)
        {
            _clock = clock;
            _poll = pollInterval;
            _calls = calls;
            _reads = reads;
            _scaling = scaling;
            _shared = shared;
            _unseen = unseen;
            _region = region;
        }

        // ---- Roles ----------------------------------------------------------------------------

        public Role NewRole(RoleIntake request, CancellationToken cancellationToken = default)
        {
            var name = RoleName.Parse(request.Name).FullName;
            var templateName = TtmTags.RoleTemplate(name);
            if (_reads.Templates($"Reading role {name}", cancellationToken, new List<Filter> { TtmTags.Filter("launch-template-name", templateName) }).Count > 0 || _unseen.UnseenRole(name) != null)
                throw new TtmException(TtmErrorCode.RoleAlreadyExists, $"Role {name} exists already (launch template {templateName}); nothing was made. Pick another name, or use it as it is.", name);

            RequestLaunchTemplateData data;
            string source;
            if (request.LaunchTemplate != null)
            {
                var version = DefaultVersionOf(request.LaunchTemplate, cancellationToken);
                data = LaunchDataCopy.ToRequest(version.LaunchTemplateData);
                if (request.ImageId != null) data.ImageId = request.ImageId;
                if (request.InstanceType != null) data.InstanceType = request.InstanceType;
                source = $"the launch settings of launch template {version.LaunchTemplateName} (version {version.VersionNumber})";
            }
            else
            {
                data = new RequestLaunchTemplateData { ImageId = request.ImageId, InstanceType = request.InstanceType ?? "t3.micro" };
                source = $"image {request.ImageId}";
            }
            if (string.IsNullOrEmpty(data.ImageId))
                throw new TtmException(TtmErrorCode.ImageNotFound, $"Launch template {request.LaunchTemplate} names no image; pass -ImageId too.", request.LaunchTemplate);
            RequireImage(data.ImageId!, cancellationToken);

            var created = _calls.Call($"Creating role {name}", cancellationToken, (ec2, cancel) => ec2.CreateLaunchTemplateAsync(new CreateLaunchTemplateRequest
            {
                LaunchTemplateName = templateName,
                VersionDescription = $"Image {data.ImageId}, brought in from {source}",
                LaunchTemplateData = data,
                ClientToken = Guid.NewGuid().ToString(),
                TagSpecifications = new List<TagSpecification>
                {
                    new TagSpecification { ResourceType = ResourceType.LaunchTemplate, Tags = new List<Tag> { TtmTags.Tag(TtmTags.Kind, TtmTags.KindRole), TtmTags.Tag(TtmTags.Role, name) } },
                },
            }, cancel), name).LaunchTemplate;
            var role = Role.Named(name, data.ImageId!, created.LaunchTemplateName, AwsMapping.TimeOf(created.CreateTime));
            _unseen.RememberRole(role);
            _shared.Changed(AwsSharedReads.Roles);
            return role;
        }

        private LaunchTemplateVersion DefaultVersionOf(string template, CancellationToken cancellationToken)
        {
            var byId = template.StartsWith("lt-", StringComparison.Ordinal);
            return _calls.Call($"Reading launch template {template}", cancellationToken, (ec2, cancel) => ec2.DescribeLaunchTemplateVersionsAsync(new DescribeLaunchTemplateVersionsRequest
            {
                LaunchTemplateId = byId ? template : null,
                LaunchTemplateName = byId ? null : template,
                Versions = new List<string> { "$Default" },
            }, cancel), template, TtmErrorCode.RoleNotFound).LaunchTemplateVersions?.FirstOrDefault()
                ?? throw new TtmException(TtmErrorCode.RoleNotFound, $"Launch template {template} has no default version to copy.", template);
        }

        private void RequireImage(string imageId, CancellationToken cancellationToken)
        {
            var found = _calls.Call($"Reading image {imageId}", cancellationToken, (ec2, cancel) => ec2.DescribeImagesAsync(new DescribeImagesRequest
            {
                Filters = new List<Filter> { TtmTags.Filter("image-id", imageId) },
            }, cancel)).Images;
            if (found == null || found.Count == 0)
                throw new TtmException(TtmErrorCode.ImageNotFound, $"There is no image {imageId} in {_region} visible to these credentials; nothing was made.", imageId);
        }

        // ---- Farm roles -----------------------------------------------------------------------

        public IntakePreview PreviewFarmRole(FarmRoleIntake request, CancellationToken cancellationToken = default)
        {
            var farmRoleName = TtmTags.FarmRoleTemplate(request.Farm, request.Alias);
            var roleTemplate = TtmTags.RoleTemplate(request.Role);
            var templates = _reads.Templates($"Reading farm role {request.Farm}/{request.Alias}", cancellationToken,
                new List<Filter> { TtmTags.Filter("launch-template-name", farmRoleName, roleTemplate) });
            if (templates.Any(t => t.LaunchTemplateName == farmRoleName))
                throw new TtmException(TtmErrorCode.FarmRoleAlreadyExists, $"Farm role {request.Farm}/{request.Alias} exists already (launch template {farmRoleName}); nothing was changed. Run Get-TtmFarmRole -Farm {request.Farm} to see it.", $"{request.Farm}/{request.Alias}");
            if (templates.All(t => t.LaunchTemplateName != roleTemplate) && _unseen.UnseenRole(request.Role) == null)
                throw new TtmException(TtmErrorCode.RoleNotFound, $"There is no role {request.Role} (launch template {roleTemplate}); make it first with New-TtmRole, from the image or the launch template the servers run.", request.Role);
            return request.AutoScalingGroup != null ? PreviewGroup(request, cancellationToken) : PreviewServers(request, cancellationToken);
        }

        private IntakePreview PreviewGroup(FarmRoleIntake request, CancellationToken cancellationToken)
        {
            var group = _scaling.Calls.DescribeGroup(request.AutoScalingGroup!, cancellationToken)
                ?? throw new TtmException(TtmErrorCode.ScalingGroupNotFound, $"There is no Auto Scaling group '{request.AutoScalingGroup}' in {_region}; nothing was changed. List them with: aws autoscaling describe-auto-scaling-groups --query 'AutoScalingGroups[].AutoScalingGroupName'.", request.AutoScalingGroup);
            if (request.Count != null && request.Count != group.DesiredCapacity)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"The count of a farm role that is an Auto Scaling group is the group's desired capacity ({group.DesiredCapacity}); leave -Count out.", request.Count);
            var ids = group.Instances.Where(i => !i.IsLeaving).Select(i => i.InstanceId).ToList();
            var targetGroups = request.TargetGroups ?? group.TargetGroupArns.Select(AutoScalingCalls.TargetGroupNameOf).ToList();
            return new IntakePreview
            {
                InstanceIds = ids, Count = group.DesiredCapacity, TargetGroups = targetGroups,
                Request = request with { InstanceIds = ids, Count = group.DesiredCapacity, TargetGroups = targetGroups },
            };
        }

        private IntakePreview PreviewServers(FarmRoleIntake request, CancellationToken cancellationToken)
        {
            var filters = new List<Filter> { TtmTags.Filter("instance-state-name", "pending", "running") };
            if (request.InstanceIds.Count > 0) filters.Add(TtmTags.Filter("instance-id", request.InstanceIds));
            foreach (var tag in request.Tags) filters.Add(TtmTags.TagFilter(tag.Key, new[] { tag.Value }));
            if (request.InstanceIds.Count == 0 && request.Tags.Count == 0)
                throw new TtmException(TtmErrorCode.EmptyInput, "Name the servers to bring in: -AutoScalingGroup, -InstanceId or -Tag.", null);
            var instances = _reads.Instances("Reading the servers to bring in", cancellationToken, filters).OrderBy(i => i.LaunchTime ?? DateTime.MinValue).ThenBy(i => i.InstanceId, StringComparer.Ordinal).ToList();
            var missing = request.InstanceIds.Where(id => instances.All(i => i.InstanceId != id)).ToList();
            if (missing.Count > 0)
                throw new TtmException(TtmErrorCode.ServerNotFound, $"No running or pending instance {string.Join(", ", missing)} in {_region}; nothing was changed.", missing[0]);
            if (instances.Count == 0)
                throw new TtmException(TtmErrorCode.ServerNotFound, $"No running or pending instance carries {string.Join(" and ", request.Tags.Select(t => $"tag {t.Key}={t.Value}"))} in {_region}; nothing was changed.", null);
            foreach (var instance in instances)
            {
                if (TtmTags.Get(instance.Tags, TtmTags.AutoScalingGroup) is { Length: > 0 } group)
                    throw new TtmException(TtmErrorCode.ManagedByAutoScaling, $"Instance {instance.InstanceId} belongs to Auto Scaling group {group}, which would replace it; bring the group in instead: New-TtmFarmRole -AutoScalingGroup {group}. Nothing was changed.", instance.InstanceId);
                var farm = TtmTags.Get(instance.Tags, TtmTags.Farm);
                var alias = TtmTags.Get(instance.Tags, TtmTags.Alias);
                // Tagged for this very farm role is a rerun finishing what a stopped one began; any other farm role's is not ours to take.
                if (!string.IsNullOrEmpty(farm) && (farm != request.Farm || alias != request.Alias))
                    throw new TtmException(TtmErrorCode.InvalidArgument, $"Instance {instance.InstanceId} is already a server of farm role {farm}/{alias}; nothing was changed. Leave it out.", instance.InstanceId);
            }
            var ids = instances.Select(i => i.InstanceId).ToList();
            var count = request.Count ?? ids.Count;
            if (count < 1) throw new TtmException(TtmErrorCode.InvalidArgument, $"-Count must be 1 or more; got {count}.", count);
            var targetGroups = request.TargetGroups ?? Array.Empty<string>();
            return new IntakePreview { InstanceIds = ids, Count = count, TargetGroups = targetGroups, Request = request with { InstanceIds = ids, Count = count, TargetGroups = targetGroups } };
        }

        public FarmRole NewFarmRole(FarmRoleIntake request, CancellationToken cancellationToken = default)
        {
            try
            {
                return Make(PreviewFarmRole(request, cancellationToken).Request, cancellationToken);
            }
            finally
            {
                _shared.Changed(AwsSharedReads.FarmRoles);
                _shared.Changed(AwsSharedReads.Servers);
                _shared.Changed(AwsSharedReads.ScalingGroups);
            }
        }

        private FarmRole Make(FarmRoleIntake request, CancellationToken cancellationToken)
        {
            // 1. The servers, each with its own index (oldest first) and Name.
            var index = 0;
            foreach (var id in request.InstanceIds)
            {
                index++;
                _calls.Call($"Tagging server {id} as {request.Alias}.{index} of farm {request.Farm}", cancellationToken, (ec2, cancel) => ec2.CreateTagsAsync(new CreateTagsRequest
                {
                    Resources = new List<string> { id },
                    Tags = new List<Tag>
                    {
                        TtmTags.Tag(TtmTags.Farm, request.Farm), TtmTags.Tag(TtmTags.Alias, request.Alias), TtmTags.Tag(TtmTags.Role, request.Role),
                        TtmTags.Tag(TtmTags.Index, index.ToString(CultureInfo.InvariantCulture)),
                        TtmTags.Tag(TtmTags.Name, TtmTags.ServerDisplayName(request.Farm, request.Alias, index)),
                    },
                }, cancel), id, TtmErrorCode.ServerNotFound);
            }

            // 2. A group launches from the role from now on, and gives what it launches the farm role's tags.
            if (request.AutoScalingGroup != null)
            {
                _scaling.Calls.SetLaunchTemplate(request.AutoScalingGroup, TtmTags.RoleTemplate(request.Role), "$Default", cancellationToken);
                _scaling.Calls.SetTags(request.AutoScalingGroup, new Dictionary<string, string>
                {
                    [TtmTags.Farm] = request.Farm, [TtmTags.Alias] = request.Alias, [TtmTags.Role] = request.Role,
                }, propagate: true, cancellationToken);
            }

            // 3. The farm role itself, last: it exists complete or not at all.
            var tags = new List<Tag>
            {
                TtmTags.Tag(TtmTags.Kind, TtmTags.KindFarmRole), TtmTags.Tag(TtmTags.Farm, request.Farm), TtmTags.Tag(TtmTags.Alias, request.Alias),
                TtmTags.Tag(TtmTags.Role, request.Role), TtmTags.Tag(TtmTags.Count, (request.Count ?? request.InstanceIds.Count).ToString(CultureInfo.InvariantCulture)),
            };
            if (request.TargetGroups != null && request.TargetGroups.Count > 0) tags.Add(TtmTags.Tag(TtmTags.TargetGroups, string.Join(",", request.TargetGroups)));
            if (request.AutoScalingGroup != null) tags.Add(TtmTags.Tag(TtmTags.ScalingGroup, request.AutoScalingGroup));
            var name = TtmTags.FarmRoleTemplate(request.Farm, request.Alias);
            var created = _calls.Call($"Creating farm role {request.Farm}/{request.Alias}", cancellationToken, (ec2, cancel) => ec2.CreateLaunchTemplateAsync(new CreateLaunchTemplateRequest
            {
                LaunchTemplateName = name,
                // Never launched from: its tags are the farm role; servers launch from role/<Role>.
                VersionDescription = $"Rebundle farm role {request.Farm}/{request.Alias}: its tags are the farm role; servers launch from {TtmTags.RoleTemplate(request.Role)}",
                LaunchTemplateData = new RequestLaunchTemplateData { InstanceType = "t3.micro" },
                ClientToken = Guid.NewGuid().ToString(),
                TagSpecifications = new List<TagSpecification> { new TagSpecification { ResourceType = ResourceType.LaunchTemplate, Tags = tags } },
            }, cancel), $"{request.Farm}/{request.Alias}").LaunchTemplate;
            WaitUntilListed(name, cancellationToken);
            var farmRole = new FarmRole
            {
                Farm = request.Farm, FarmId = request.Farm, Alias = request.Alias, Role = request.Role, DesiredCount = request.Count ?? request.InstanceIds.Count,
                Id = created.LaunchTemplateName, TargetGroups = request.TargetGroups ?? Array.Empty<string>(), ScalingGroup = request.AutoScalingGroup,
            };
            return farmRole;
        }

        /// <summary>
        /// EC2 lists a new launch template a few seconds after making it: the farm role is
        /// returned once it is listed, so the command after New-TtmFarmRole (a lease on the farm,
        /// a recycle, Set-TtmFarmRole) finds it, as it would any other farm role.
        /// </summary>
        private void WaitUntilListed(string name, CancellationToken cancellationToken)
        {
            var until = _clock.UtcNow + ListedWithin;
            while (_reads.Templates($"Waiting for farm role {name} to be listed", cancellationToken, new List<Filter> { TtmTags.Filter("launch-template-name", name) }).Count == 0
                   && _clock.UtcNow < until)
                _clock.Sleep(_poll, cancellationToken);
        }
    }
}

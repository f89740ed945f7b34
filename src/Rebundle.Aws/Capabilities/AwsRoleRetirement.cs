using Amazon.EC2.Model;
using Rebundle.Aws.Ec2;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Aws
{
    /// <summary>
    /// Retiring roles (Remove-TtmRoleVersion): a role's launch template and, when nothing else
    /// launches from it, its image with its snapshots. Its only state is the connection's
    /// <see cref="UnseenObjects"/>, which it shares with the backend (a role made a moment ago),
    /// and the shared view it tells that a role is gone.
    /// </summary>
    internal sealed class AwsRoleRetirement : IRoleRetirement
    {
        private readonly Ec2Calls _calls;
        private readonly Ec2Reads _reads;
        private readonly UnseenObjects _unseen;
        private readonly AwsSharedReads _shared;

        public AwsRoleRetirement(Ec2Calls calls, Ec2Reads reads, UnseenObjects unseen, AwsSharedReads shared)
        {
            _calls = calls;
            _reads = reads;
            _unseen = unseen;
            _shared = shared;
        }

        /// <summary>
        /// Deletes launch template <c>role/&lt;Role&gt;</c> (with every version), unless a farm role
        /// runs it. With <paramref name="deleteImage"/> the image is deregistered and its EBS
        /// snapshots deleted too, unless the default or latest version of any launch template
        /// still launches from it.
        /// </summary>
        public void DeleteRole(Role role, bool deleteImage, CancellationToken cancellationToken = default)
        {
            var name = TtmTags.RoleTemplate(role.Name);
            // A role made a moment ago is deleted by name: EC2 may not list it yet.
            var templateId = _reads.Templates($"Reading role {role.Name}", cancellationToken, new List<Filter> { TtmTags.Filter("launch-template-name", name) }).FirstOrDefault()?.LaunchTemplateId;
            if (templateId == null && _unseen.UnseenRole(role.Name) == null)
                throw new TtmException(TtmErrorCode.RoleNotFound, $"There is no role named '{role.Name}' (no launch template {name}).", role.Name);
            var runBy = _reads.Templates($"Reading the farm roles of role {role.Name}", cancellationToken, new List<Filter>
            {
                TtmTags.TagFilter(TtmTags.Kind, new[] { TtmTags.KindFarmRole }),
                TtmTags.TagFilter(TtmTags.Role, new[] { role.Name }),
            }).Select(AwsMapping.FarmRoleOf).Where(r => r != null).ToList();
            if (runBy.Count > 0)
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    $"Role {role.Name} is still run by farm role {string.Join(", ", runBy)}; it was kept. Point the farm role at another role first (Set-TtmFarmRole).", role.Name);

            _unseen.ForgetRole(role.Name); // it goes now: it no longer holds its image
            _shared.Changed(AwsSharedReads.Roles);
            _shared.Changed(AwsSharedReads.LaunchSettings + role.Name);
            _calls.Call($"Deleting role {role.Name}", cancellationToken, (ec2, cancel) => ec2.DeleteLaunchTemplateAsync(new DeleteLaunchTemplateRequest
            {
                LaunchTemplateId = templateId,
                LaunchTemplateName = templateId == null ? name : null,
            }, cancel), role.Name, TtmErrorCode.RoleNotFound);

            if (!deleteImage || string.IsNullOrEmpty(role.ImageId) || _unseen.UnseenRoleUses(role.ImageId) || ImageStillLaunched(role.ImageId, cancellationToken)) return;
            _calls.Call($"Deregistering image {role.ImageId} of role {role.Name}", cancellationToken, (ec2, cancel) => ec2.DeregisterImageAsync(new DeregisterImageRequest
            {
                ImageId = role.ImageId,
                DeleteAssociatedSnapshots = true,
            }, cancel), role.ImageId, TtmErrorCode.ImageNotFound);
        }

        /// <summary>Whether the default or latest version of any launch template names the image (one pass).</summary>
        private bool ImageStillLaunched(string imageId, CancellationToken cancellationToken) =>
            _calls.All<LaunchTemplateVersion>($"Checking which roles use image {imageId}", cancellationToken, async (ec2, token, cancel) =>
            {
                var response = await ec2.DescribeLaunchTemplateVersionsAsync(new DescribeLaunchTemplateVersionsRequest
                {
                    Versions = new List<string> { "$Default", "$Latest" },
                    Filters = new List<Filter> { TtmTags.Filter("image-id", imageId) },
                    MaxResults = Ec2Reads.TemplatePage,
                    NextToken = token,
                }, cancel).ConfigureAwait(false);
                return (response.LaunchTemplateVersions, response.NextToken);
            }).Count > 0;
    }
}

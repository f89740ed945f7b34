using Amazon.EC2.Model;
using Rebundle.Aws.Ec2;
using Rebundle.Backends;
using Rebundle.Domain;
using Image = Rebundle.Domain.Image;

namespace Rebundle.Aws
{
    /// <summary>The reads: each a filtered, paginated pass (never one call per server or role).</summary>
    public sealed partial class AwsBackend
    {
        public IReadOnlyList<Farm> GetFarms(CancellationToken cancellationToken = default) =>
            GetFarmRoles(null, cancellationToken)
                .GroupBy(r => r.Farm, StringComparer.Ordinal)
                .Select(g => new Farm { Name = g.Key, Id = g.Key, FarmRoleCount = g.Count() })
                .OrderBy(f => f.Name, StringComparer.OrdinalIgnoreCase)
                .ToList();

        public IReadOnlyList<FarmRole> GetFarmRoles(IReadOnlyCollection<string>? farms = null, CancellationToken cancellationToken = default)
        {
            if (farms != null && farms.Count == 0) return Array.Empty<FarmRole>();
            // In a shared view every farm's farm roles are read once and each question answered
            // from them (exact farm names, as EC2's tag filter matches them).
            var templates = _shared.IsOpen
                ? _shared.AllFarmRoleTemplates(cancellationToken)
                    .Where(t => farms == null || farms.Contains(TtmTags.Get(t.Tags, TtmTags.Farm) ?? "", StringComparer.Ordinal))
                : _reads.FarmRoleTemplates("Reading farm roles", cancellationToken, farms);
            // A group's count and role are the group's: one read for every group among them.
            return _scaling.WithGroups(templates
                .Select(AwsMapping.FarmRoleOf)
                .Where(r => r != null)
                .Select(r => r!)
                .ToList(), cancellationToken);
        }

        public IReadOnlyList<Role> GetRoles(CancellationToken cancellationToken = default) =>
            _shared.Once(AwsSharedReads.Roles, () => ReadRoles(cancellationToken)).ToList();

        private List<Role> ReadRoles(CancellationToken cancellationToken)
        {
            var templates = _reads.Templates("Reading roles", cancellationToken, new List<Filter> { TtmTags.TagFilter(TtmTags.Kind, new[] { TtmTags.KindRole }) });
            var images = DefaultVersionImages("Reading roles", templates, cancellationToken);
            var roles = new List<Role>();
            foreach (var template in templates)
            {
                // A template whose name is not a role name is someone else's mistake; leave it out rather than fail every read.
                if (!images.TryGetValue(template.LaunchTemplateId, out var imageId)) continue;
                try
                {
                    roles.Add(Role.Named(AwsMapping.RoleNameOf(template), imageId, template.LaunchTemplateName, AwsMapping.TimeOf(template.CreateTime))
                        with { CreatedByRun = TtmTags.Get(template.Tags, TtmTags.RunId) });
                }
                catch (Errors.TtmException) { }
            }
            return _unseen.WithUnseenRoles(roles);
        }

        public IReadOnlyList<Server> GetServers(ServerQuery query, CancellationToken cancellationToken = default) =>
            _shared.Once(AwsSharedReads.Servers + KeyOf(query), () =>
            {
                var servers = _statusChecks.Apply(ReadServers(query, cancellationToken), cancellationToken);
                return query.Statuses == null || query.Statuses.Count == 0
                    ? servers
                    : servers.Where(s => query.Statuses.Contains(s.Status)).ToList();
            }).ToList();

        /// <summary>A query as a shared view's key: the same question asked in another order is the same question.</summary>
        private static string KeyOf(ServerQuery query)
        {
            string Part(IEnumerable<string>? values) => values == null ? "*" : string.Join(",", values.OrderBy(v => v, StringComparer.Ordinal));
            return string.Join("|", Part(query.Farms), Part(query.Aliases), Part(query.Ids), Part(query.Statuses?.Select(s => s.ToString())), query.IncludeTerminated ? "all" : "live");
        }

        /// <summary>Servers by their instance state alone (no status checks): one filtered, paginated DescribeInstances pass.</summary>
        private List<Server> ReadServers(ServerQuery query, CancellationToken cancellationToken)
        {
            if ((query.Farms != null && query.Farms.Count == 0) || (query.Aliases != null && query.Aliases.Count == 0) || (query.Ids != null && query.Ids.Count == 0))
                return new List<Server>();
            var filters = new List<Filter>();
            filters.Add(query.Farms != null ? TtmTags.TagFilter(TtmTags.Farm, query.Farms) : TtmTags.Filter("tag-key", TtmTags.Farm));
            if (query.Aliases != null) filters.Add(TtmTags.TagFilter(TtmTags.Alias, query.Aliases));
            if (query.Statuses != null && query.Statuses.Count > 0)
                filters.Add(TtmTags.Filter("instance-state-name", query.Statuses.SelectMany(AwsMapping.StatesOf).Distinct()));
            else if (!query.IncludeTerminated)
                filters.Add(TtmTags.Filter("instance-state-name", AwsMapping.LiveStates));

            if (query.Ids != null) filters.Add(TtmTags.Filter("instance-id", query.Ids));
            var instances = _reads.Instances("Reading servers", cancellationToken, filters);
            _autoScaling.Note(instances);
            // A group's servers by their lifecycle too (Pending:Wait, Terminating:Wait): one read for every group among them.
            return _unseen.WithUnseenLaunches(_scaling.WithLifecycle(instances
                .Select(i => AwsMapping.ServerOf(i, _region))
                .Where(s => s != null)
                .Select(s => s!)
                .ToList(), cancellationToken), query);
        }

        public IReadOnlyList<Image> GetImages(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default)
        {
            var images = new List<Image>();
            var asked = new HashSet<string>(imageIds, StringComparer.Ordinal);
            foreach (var ids in Ec2Reads.Chunks(imageIds.Where(id => !string.IsNullOrWhiteSpace(id)).Distinct(StringComparer.Ordinal), FilterLimit.Values))
            {
                images.AddRange(_calls.All<Amazon.EC2.Model.Image>("Reading images", cancellationToken, async (ec2, token, cancel) =>
                {
                    var response = await ec2.DescribeImagesAsync(new DescribeImagesRequest
                    {
                        Filters = new List<Filter> { TtmTags.Filter("image-id", ids) },
                        MaxResults = Ec2Reads.InstancePage,
                        NextToken = token,
                    }, cancel).ConfigureAwait(false);
                    return (response.Images, response.NextToken);
                }).Select(AwsMapping.ImageOf));
            }
            return _unseen.WithUnseenImages(images, i => asked.Contains(i.Id));
        }

        // ---- Batched reads ----------------------------------------------------------------------

        /// <summary>
        /// The image of each template's default version, by template id. One template is read
        /// directly; several are read in one pass over the default versions of every launch
        /// template (EC2 has no filter by template for that), so the cost never grows per role.
        /// </summary>
        private Dictionary<string, string> DefaultVersionImages(string doing, IReadOnlyList<LaunchTemplate> templates, CancellationToken cancellationToken)
        {
            var wanted = new HashSet<string>(templates.Select(t => t.LaunchTemplateId), StringComparer.Ordinal);
            if (wanted.Count == 0) return new Dictionary<string, string>(StringComparer.Ordinal);
            var versions = _calls.All<LaunchTemplateVersion>(doing, cancellationToken, async (ec2, token, cancel) =>
            {
                var request = new DescribeLaunchTemplateVersionsRequest { Versions = new List<string> { "$Default" }, NextToken = token };
                if (wanted.Count == 1) request.LaunchTemplateId = wanted.First();
                else request.MaxResults = Ec2Reads.TemplatePage;
                var response = await ec2.DescribeLaunchTemplateVersionsAsync(request, cancel).ConfigureAwait(false);
                return (response.LaunchTemplateVersions, response.NextToken);
            });
            return versions
                .Where(v => wanted.Contains(v.LaunchTemplateId) && !string.IsNullOrEmpty(v.LaunchTemplateData?.ImageId))
                .GroupBy(v => v.LaunchTemplateId, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.First().LaunchTemplateData.ImageId, StringComparer.Ordinal);
        }
    }
}

using Amazon.EC2.Model;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Runbook;
using Image = Rebundle.Domain.Image;

namespace Rebundle.Aws
{
    /// <summary>
    /// The fleet on EC2, mapped as docs/aws.md describes: roles and farm roles are tagged launch
    /// templates, servers are tagged instances, snapshots are CreateImage. Every read is a
    /// filtered, paginated pass (never one call per server or role); retries and backoff are
    /// the SDK's standard retry mode.
    /// </summary>
    public sealed partial class AwsBackend : IFleetBackend, ISshReachableServers
    {
        // EC2 caps: DescribeInstances/DescribeImages pages hold up to 1000 items, launch-template
        // pages up to 200, and one call's filters take up to 200 values in all (FilterLimit).
        private const int InstancePage = 1000;
        private const int TemplatePage = 200;
        private const int FilterValues = FilterLimit.Values;

        private readonly Ec2Calls _calls;
        private readonly string _region;

        private AwsBackend(Ec2Calls calls, string region, IClock clock, TimeSpan pollInterval, LeaseSettings leases)
        {
            _calls = calls;
            _region = region;
            Clock = clock;
            PollInterval = pollInterval;
            _leaseSettings = leases;
        }

        public BackendKind Kind => BackendKind.Aws;

        /// <summary>EC2's CreateImage reboots the instance unless told NoReboot.</summary>
        public bool SnapshotReboots => true;

        public string Location => _calls.Location;

        public IClock Clock { get; }

        public TimeSpan PollInterval { get; }

        public IReadOnlyList<Farm> GetFarms(CancellationToken cancellationToken = default) =>
            GetFarmRoles(null, cancellationToken)
                .GroupBy(r => r.Farm, StringComparer.Ordinal)
                .Select(g => new Farm { Name = g.Key, Id = g.Key, FarmRoleCount = g.Count() })
                .OrderBy(f => f.Name, StringComparer.OrdinalIgnoreCase)
                .ToList();

        public IReadOnlyList<FarmRole> GetFarmRoles(IReadOnlyCollection<string>? farms = null, CancellationToken cancellationToken = default)
        {
            if (farms != null && farms.Count == 0) return Array.Empty<FarmRole>();
            var filters = new List<Filter> { TtmTags.TagFilter(TtmTags.Kind, new[] { TtmTags.KindFarmRole }) };
            if (farms != null) filters.Add(TtmTags.TagFilter(TtmTags.Farm, farms));
            return Templates("Reading farm roles", cancellationToken, filters)
                .Select(AwsMapping.FarmRoleOf)
                .Where(r => r != null)
                .Select(r => r!)
                .ToList();
        }

        public IReadOnlyList<Role> GetRoles(CancellationToken cancellationToken = default)
        {
            var templates = Templates("Reading roles", cancellationToken, new List<Filter> { TtmTags.TagFilter(TtmTags.Kind, new[] { TtmTags.KindRole }) });
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
            return WithUnseenRoles(roles);
        }

        public IReadOnlyList<Server> GetServers(ServerQuery query, CancellationToken cancellationToken = default)
        {
            var servers = WithStatusChecks(ReadServers(query, cancellationToken), cancellationToken);
            return query.Statuses == null || query.Statuses.Count == 0
                ? servers
                : servers.Where(s => query.Statuses.Contains(s.Status)).ToList();
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
            var instances = Instances("Reading servers", cancellationToken, filters);
            NoteAutoScalingGroups(instances);
            return WithUnseenLaunches(instances
                .Select(i => AwsMapping.ServerOf(i, _region))
                .Where(s => s != null)
                .Select(s => s!)
                .ToList(), query);
        }

        public IReadOnlyList<Image> GetImages(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default)
        {
            var images = new List<Image>();
            var asked = new HashSet<string>(imageIds, StringComparer.Ordinal);
            foreach (var ids in Chunks(imageIds.Where(id => !string.IsNullOrWhiteSpace(id)).Distinct(StringComparer.Ordinal)))
            {
                images.AddRange(_calls.All<Amazon.EC2.Model.Image>("Reading images", cancellationToken, async (ec2, token, cancel) =>
                {
                    var response = await ec2.DescribeImagesAsync(new DescribeImagesRequest
                    {
                        Filters = new List<Filter> { TtmTags.Filter("image-id", ids) },
                        MaxResults = InstancePage,
                        NextToken = token,
                    }, cancel).ConfigureAwait(false);
                    return (response.Images, response.NextToken);
                }).Select(AwsMapping.ImageOf));
            }
            return WithUnseenImages(images, i => asked.Contains(i.Id));
        }

        /// <summary>Image lookup, role retirement, SSH-reachable servers and shared leases (a tag on the farm's templates).</summary>
        public T? Capability<T>() where T : class => this as T;

        public void Dispose()
        {
            ReleaseAllLeases();
            _calls.Dispose();
        }

        // ---- Batched reads ----------------------------------------------------------------------

        /// <summary>Every template the filters match (<see cref="Matching{T}"/>).</summary>
        private List<LaunchTemplate> Templates(string doing, CancellationToken cancellationToken, List<Filter> filters) =>
            Matching<LaunchTemplate>(doing, cancellationToken, filters, t => t.LaunchTemplateId, async (ec2, within, token, cancel) =>
            {
                var response = await ec2.DescribeLaunchTemplatesAsync(new DescribeLaunchTemplatesRequest { Filters = within, MaxResults = TemplatePage, NextToken = token }, cancel).ConfigureAwait(false);
                return (response.LaunchTemplates, response.NextToken);
            });

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
                else request.MaxResults = TemplatePage;
                var response = await ec2.DescribeLaunchTemplateVersionsAsync(request, cancel).ConfigureAwait(false);
                return (response.LaunchTemplateVersions, response.NextToken);
            });
            return versions
                .Where(v => wanted.Contains(v.LaunchTemplateId) && !string.IsNullOrEmpty(v.LaunchTemplateData?.ImageId))
                .GroupBy(v => v.LaunchTemplateId, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.First().LaunchTemplateData.ImageId, StringComparer.Ordinal);
        }

        /// <summary>Every instance the filters match (<see cref="Matching{T}"/>).</summary>
        private List<Instance> Instances(string doing, CancellationToken cancellationToken, List<Filter> filters) =>
            Matching<Instance>(doing, cancellationToken, filters, i => i.InstanceId, async (ec2, within, token, cancel) =>
            {
                var response = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { Filters = within, MaxResults = InstancePage, NextToken = token }, cancel).ConfigureAwait(false);
                return (response.Reservations?.SelectMany(r => r.Instances ?? new List<Instance>()), response.NextToken);
            });

        /// <summary>
        /// Everything a Describe call finds for the filters, every page, in as many calls as EC2's
        /// filter limit needs (<see cref="FilterLimit"/>); an object two calls both find is kept once.
        /// </summary>
        private List<T> Matching<T>(string doing, CancellationToken cancellationToken, List<Filter> filters, Func<T, string> id,
            Func<Amazon.EC2.IAmazonEC2, List<Filter>, string?, CancellationToken, System.Threading.Tasks.Task<(IEnumerable<T>? Items, string? NextToken)>> page) =>
            FilterLimit.Split(filters)
                .SelectMany(within => _calls.All<T>(doing, cancellationToken, (ec2, token, cancel) => page(ec2, within, token, cancel)))
                .GroupBy(id, StringComparer.Ordinal).Select(g => g.First()).ToList();

        private static IEnumerable<List<string>> Chunks(IEnumerable<string> values) =>
            values.Select((v, i) => (v, i)).GroupBy(x => x.i / FilterValues).Select(g => g.Select(x => x.v).ToList());
    }
}

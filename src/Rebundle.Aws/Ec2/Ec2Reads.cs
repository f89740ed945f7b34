using System.Threading.Tasks;
using Amazon.EC2;
using Amazon.EC2.Model;

namespace Rebundle.Aws.Ec2
{
    /// <summary>
    /// The batched Describe reads every part of the AWS backend shares: each is one filtered,
    /// paginated pass (never one call per object), split at EC2's filter limit
    /// (<see cref="FilterLimit"/>), with an object two calls both find kept once.
    /// </summary>
    public sealed class Ec2Reads
    {
        // EC2 caps: DescribeInstances/DescribeImages pages hold up to 1000 items, launch-template pages up to 200.
        public const int InstancePage = 1000;
        public const int TemplatePage = 200;

        private readonly Ec2Calls _calls;

        public Ec2Reads(Ec2Calls calls) => _calls = calls;

        /// <summary>Every launch template the filters match.</summary>
        public List<LaunchTemplate> Templates(string doing, CancellationToken cancellationToken, List<Filter> filters) =>
            Matching<LaunchTemplate>(doing, cancellationToken, filters, t => t.LaunchTemplateId, async (ec2, within, token, cancel) =>
            {
                var response = await ec2.DescribeLaunchTemplatesAsync(new DescribeLaunchTemplatesRequest { Filters = within, MaxResults = TemplatePage, NextToken = token }, cancel).ConfigureAwait(false);
                return (response.LaunchTemplates, response.NextToken);
            });

        /// <summary>The farm-role templates (<c>farm/&lt;Farm&gt;/&lt;Alias&gt;</c>) of <paramref name="farms"/>, or of every farm.</summary>
        public List<LaunchTemplate> FarmRoleTemplates(string doing, CancellationToken cancellationToken, IReadOnlyCollection<string>? farms = null)
        {
            var filters = new List<Filter> { TtmTags.TagFilter(TtmTags.Kind, new[] { TtmTags.KindFarmRole }) };
            if (farms != null) filters.Add(TtmTags.TagFilter(TtmTags.Farm, farms));
            return Templates(doing, cancellationToken, filters);
        }

        /// <summary>Every instance the filters match.</summary>
        public List<Instance> Instances(string doing, CancellationToken cancellationToken, List<Filter> filters) =>
            Matching<Instance>(doing, cancellationToken, filters, i => i.InstanceId, async (ec2, within, token, cancel) =>
            {
                var response = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { Filters = within, MaxResults = InstancePage, NextToken = token }, cancel).ConfigureAwait(false);
                return (response.Reservations?.SelectMany(r => r.Instances ?? new List<Instance>()), response.NextToken);
            });

        /// <summary>Everything a Describe call finds for the filters, every page, in as many calls as EC2's filter limit needs.</summary>
        public List<T> Matching<T>(string doing, CancellationToken cancellationToken, List<Filter> filters, Func<T, string> id,
            Func<IAmazonEC2, List<Filter>, string?, CancellationToken, Task<(IEnumerable<T>? Items, string? NextToken)>> page) =>
            FilterLimit.Split(filters)
                .SelectMany(within => _calls.All<T>(doing, cancellationToken, (ec2, token, cancel) => page(ec2, within, token, cancel)))
                .GroupBy(id, StringComparer.Ordinal).Select(g => g.First()).ToList();

        /// <summary><paramref name="values"/> in lists of at most <paramref name="size"/>, in order (ids per call, values per filter).</summary>
        public static IEnumerable<List<string>> Chunks(IEnumerable<string> values, int size) =>
            values.Select((v, i) => (v, i)).GroupBy(x => x.i / size).Select(g => g.Select(x => x.v).ToList());
    }
}

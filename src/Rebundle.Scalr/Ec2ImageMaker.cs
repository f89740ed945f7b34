using System.Collections.Concurrent;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Rebundle.Aws.Ec2;
using Rebundle.Domain;
using Image = Rebundle.Domain.Image;
using Rebundle.Errors;

namespace Rebundle.Scalr
{
    /// <summary>
    /// The EC2 half of a Scalr snapshot: Scalr's API registers images but does not make them,
    /// so the image is made with EC2 CreateImage of the server's instance and read back with
    /// DescribeImages, through the public EC2 layer (Rebundle.Aws.Ec2) the AWS backend uses too
    /// (Ec2ClientFactory: credentials and the standard retry mode; Ec2Calls and AwsErrors: calls
    /// and error mapping; TtmTags: tag names; AwsMapping and FilterLimit: images and filter splits),
    /// with one client per region, created on first use, so nothing loads the SDK until needed.
    /// </summary>
    internal sealed class Ec2ImageMaker : IDisposable
    {
        private readonly ScalrConnectionOptions _options;
        private readonly ConcurrentDictionary<string, Ec2Calls> _clients = new ConcurrentDictionary<string, Ec2Calls>(StringComparer.Ordinal);

        public Ec2ImageMaker(ScalrConnectionOptions options) => _options = options;

        /// <summary>The region to use for a server in <paramref name="cloudLocation"/>: -AwsRegion wins.</summary>
        public string RegionFor(string? cloudLocation) =>
            !string.IsNullOrWhiteSpace(_options.AwsRegion) ? _options.AwsRegion! :
            !string.IsNullOrWhiteSpace(cloudLocation) ? cloudLocation! :
            throw new TtmException(TtmErrorCode.InvalidArgument,
                "Scalr did not say which AWS region the server is in; pass -AwsRegion to Connect-TtmFleet.", "AwsRegion");

        /// <summary>Starts CreateImage of <paramref name="instanceId"/>; returns the new AMI id.</summary>
        public string CreateImage(string region, string instanceId, string name, string roleName, string serverName, bool noReboot, CancellationToken cancellation)
        {
            var request = new CreateImageRequest
            {
                InstanceId = instanceId,
                Name = name,
                NoReboot = noReboot,
                Description = $"Rebundle snapshot of {serverName} for role {roleName}",
                TagSpecifications = new List<TagSpecification>
                {
                    new TagSpecification
                    {
                        ResourceType = ResourceType.Image,
                        Tags = new List<Tag> { new Tag(TtmTags.Role, roleName), new Tag(TtmTags.SourceInstance, instanceId) },
                    },
                },
            };
            var response = Calls(region).Call($"Making an image of {instanceId} (CreateImage)", cancellation, (c, cancel) => c.CreateImageAsync(request, cancel), instanceId);
            return response.ImageId;
        }

        /// <summary>
        /// The images among <paramref name="amiIds"/> that EC2 knows in <paramref name="region"/>,
        /// read in one DescribeImages call (an image-id filter, which skips unknown ids instead of failing).
        /// </summary>
        public IReadOnlyList<Image> Describe(string region, IReadOnlyCollection<string> amiIds, CancellationToken cancellation)
        {
            var images = new Dictionary<string, Image>(StringComparer.Ordinal);
            foreach (var page in Pages(region, "image-id", amiIds, cancellation, (filters, token) => new DescribeImagesRequest { Filters = filters, NextToken = token },
                         "Reading images (DescribeImages)", (c, request, cancel) => c.DescribeImagesAsync(request, cancel), page => page.NextToken))
                foreach (var image in page.Images ?? new List<Amazon.EC2.Model.Image>())
                    images[image.ImageId] = AwsMapping.ImageOf(image); // the AWS backend's mapping: one reading of EC2's states and dates
            return images.Values.ToList();
        }

        /// <summary>
        /// Instance id → image id for the given instances in <paramref name="region"/>, in one paged
        /// DescribeInstances per 200 ids (an instance-id filter, which skips ids EC2 does not know).
        /// </summary>
        public IReadOnlyDictionary<string, string> InstanceImages(string region, IReadOnlyCollection<string> instanceIds, CancellationToken cancellation)
        {
            var images = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var page in Pages(region, "instance-id", instanceIds, cancellation, (filters, token) => new DescribeInstancesRequest { Filters = filters, NextToken = token },
                         "Reading instances (DescribeInstances)", (c, request, cancel) => c.DescribeInstancesAsync(request, cancel), page => page.NextToken))
                foreach (var instance in (page.Reservations ?? new List<Reservation>()).SelectMany(r => r.Instances ?? new List<Instance>()))
                    images[instance.InstanceId] = instance.ImageId;
            return images;
        }

        /// <summary>
        /// Every page of a read filtered by <paramref name="ids"/>: split at EC2's 200 filter values
        /// (FilterLimit, as the AWS backend splits), each part paged to its end.
        /// </summary>
        private IEnumerable<TResponse> Pages<TRequest, TResponse>(string region, string filterName, IReadOnlyCollection<string> ids, CancellationToken cancellation,
            Func<List<Filter>, string?, TRequest> request, string doing, Func<Amazon.EC2.IAmazonEC2, TRequest, CancellationToken, System.Threading.Tasks.Task<TResponse>> call, Func<TResponse, string?> nextToken)
        {
            if (ids.Count == 0) yield break;
            foreach (var filters in FilterLimit.Split(new List<Filter> { new Filter(filterName, ids.Distinct(StringComparer.Ordinal).ToList()) }))
            {
                string? token = null;
                do
                {
                    var page = Calls(region).Call(doing, cancellation, (c, cancel) => call(c, request(filters, token), cancel), string.Join(", ", filters[0].Values.Take(3)) + (filters[0].Values.Count > 3 ? ", ..." : ""));
                    yield return page;
                    token = nextToken(page);
                }
                while (!string.IsNullOrEmpty(token));
            }
        }

        /// <summary>True when the operator gave AWS settings, so EC2 may be asked on reads too.</summary>
        public bool IsConfigured =>
            !string.IsNullOrWhiteSpace(_options.AwsRegion) || !string.IsNullOrWhiteSpace(_options.Ec2EndpointUrl) || !string.IsNullOrWhiteSpace(_options.AwsProfileName);

        public void Dispose()
        {
            foreach (var client in _clients.Values) client.Dispose();
            _clients.Clear();
        }

        private Ec2Calls Calls(string region) => _clients.GetOrAdd(region, r =>
            new Ec2Calls(Ec2ClientFactory.Create(r, _options.AwsProfileName, _options.Ec2EndpointUrl, Ec2Parameters.Scalr), $"{r}{(string.IsNullOrWhiteSpace(_options.Ec2EndpointUrl) ? "" : " at " + _options.Ec2EndpointUrl)}", Ec2Parameters.Scalr));

        /// <summary>The -AwsProfileName credentials (null for the SDK's default chain), or an error naming the missing profile, as on the AWS backend.</summary>
        public AWSCredentials? ProfileCredentials() => Ec2ClientFactory.ProfileCredentials(_options.AwsProfileName, out _, Ec2Parameters.Scalr);
    }
}

using System.Collections.Concurrent;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Rebundle.Aws;
using Rebundle.Domain;
using Image = Rebundle.Domain.Image;
using Rebundle.Errors;

namespace Rebundle.Scalr
{
    /// <summary>
    /// The EC2 half of a Scalr snapshot: Scalr's API registers images but does not make them,
    /// so the image is made with EC2 CreateImage of the server's instance and read back with
    /// DescribeImages. It is the AWS backend's EC2 layer (Ec2ClientFactory: credentials and the
    /// standard retry mode; Ec2Calls and AwsErrors: calls and error mapping; TtmTags: tag names),
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
            if (amiIds.Count == 0) return Array.Empty<Image>();
            var request = new DescribeImagesRequest { Filters = new List<Filter> { new Filter("image-id", amiIds.ToList()) } };
            var images = new List<Image>();
            string? token = null;
            do
            {
                request.NextToken = token;
                var page = Calls(region).Call("Reading images (DescribeImages)", cancellation, (c, cancel) => c.DescribeImagesAsync(request, cancel), string.Join(", ", amiIds));
                images.AddRange((page.Images ?? new List<Amazon.EC2.Model.Image>()).Select(ToImage));
                token = page.NextToken;
            }
            while (!string.IsNullOrEmpty(token));
            return images;
        }

        /// <summary>
        /// Instance id → image id for the given instances in <paramref name="region"/>, in one paged
        /// DescribeInstances (an instance-id filter, which skips ids EC2 does not know).
        /// </summary>
        public IReadOnlyDictionary<string, string> InstanceImages(string region, IReadOnlyCollection<string> instanceIds, CancellationToken cancellation)
        {
            var images = new Dictionary<string, string>(StringComparer.Ordinal);
            if (instanceIds.Count == 0) return images;
            var request = new DescribeInstancesRequest { Filters = new List<Filter> { new Filter("instance-id", instanceIds.ToList()) } };
            string? token = null;
            do
            {
                request.NextToken = token;
                var page = Calls(region).Call("Reading instances (DescribeInstances)", cancellation, (c, cancel) => c.DescribeInstancesAsync(request, cancel), string.Join(", ", instanceIds));
                foreach (var instance in (page.Reservations ?? new List<Reservation>()).SelectMany(r => r.Instances ?? new List<Instance>()))
                    images[instance.InstanceId] = instance.ImageId;
                token = page.NextToken;
            }
            while (!string.IsNullOrEmpty(token));
            return images;
        }

        /// <summary>True when the operator gave AWS settings, so EC2 may be asked on reads too.</summary>
        public bool IsConfigured =>
            !string.IsNullOrWhiteSpace(_options.AwsRegion) || !string.IsNullOrWhiteSpace(_options.Ec2EndpointUrl) || !string.IsNullOrWhiteSpace(_options.AwsProfileName);

        public void Dispose()
        {
            foreach (var client in _clients.Values) client.Dispose();
            _clients.Clear();
        }

        private static Image ToImage(Amazon.EC2.Model.Image image) => new Image
        {
            Id = image.ImageId,
            Name = image.Name ?? "",
            Status = image.State?.Value switch
            {
                "available" => ImageStatus.Available,
                "pending" => ImageStatus.Pending,
                _ => ImageStatus.Failed,
            },
            StatusReason = image.StateReason?.Message,
            CreatedAt = DateTimeOffset.TryParse(image.CreationDate, out var created) ? created : (DateTimeOffset?)null,
            SourceServerId = image.Tags?.FirstOrDefault(t => t.Key == TtmTags.SourceInstance)?.Value,
        };

        private Ec2Calls Calls(string region) => _clients.GetOrAdd(region, r =>
            new Ec2Calls(Ec2ClientFactory.Create(r, _options.AwsProfileName, _options.Ec2EndpointUrl, Ec2Parameters.Scalr), $"{r}{(string.IsNullOrWhiteSpace(_options.Ec2EndpointUrl) ? "" : " at " + _options.Ec2EndpointUrl)}", Ec2Parameters.Scalr));

        /// <summary>The -AwsProfileName credentials (null for the SDK's default chain), or an error naming the missing profile, as on the AWS backend.</summary>
        public AWSCredentials? ProfileCredentials() => Ec2ClientFactory.ProfileCredentials(_options.AwsProfileName, out _, Ec2Parameters.Scalr);
    }
}

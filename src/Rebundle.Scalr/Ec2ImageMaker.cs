using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Amazon;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Rebundle.Domain;
using Image = Rebundle.Domain.Image;
using Rebundle.Errors;

namespace Rebundle.Scalr
{
    /// <summary>
    /// The EC2 half of a Scalr snapshot: Scalr's API registers images but does not make them,
    /// so the image is made with EC2 CreateImage of the server's instance and read back with
    /// DescribeImages. One SDK client per region, created on first use, so nothing loads the
    /// SDK until a snapshot is taken.
    /// </summary>
    internal sealed class Ec2ImageMaker : IDisposable
    {
        private readonly ScalrConnectionOptions _options;
        private readonly ConcurrentDictionary<string, IAmazonEC2> _clients = new ConcurrentDictionary<string, IAmazonEC2>(StringComparer.Ordinal);

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
                        Tags = new List<Tag> { new Tag("ttm:role", roleName), new Tag("ttm:source-instance", instanceId) },
                    },
                },
            };
            var response = Call(region, $"CreateImage of {instanceId}", instanceId, cancellation, (c, cancel) => c.CreateImageAsync(request, cancel));
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
                var page = Call(region, "DescribeImages", string.Join(", ", amiIds), cancellation, (c, cancel) => c.DescribeImagesAsync(request, cancel));
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
                var page = Call(region, "DescribeInstances", string.Join(", ", instanceIds), cancellation, (c, cancel) => c.DescribeInstancesAsync(request, cancel));
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
            SourceServerId = image.Tags?.FirstOrDefault(t => t.Key == "ttm:source-instance")?.Value,
        };

        private T Call<T>(string region, string what, string target, CancellationToken cancellation, Func<IAmazonEC2, CancellationToken, Task<T>> call)
        {
            cancellation.ThrowIfCancellationRequested();
            try
            {
                var client = ClientFor(region);
                // Off the caller's synchronization context; the token ends a stalled or retried call (Ctrl+C).
                return Task.Run(() => call(client, cancellation), cancellation).GetAwaiter().GetResult();
            }
            catch (AmazonEC2Exception e)
            {
                var denied = e.ErrorCode == "UnauthorizedOperation" || e.ErrorCode == "AuthFailure";
                throw new TtmException(denied ? TtmErrorCode.AccessDenied : TtmErrorCode.BackendError,
                    $"EC2 refused {what} in {region} ({e.ErrorCode}): {e.Message}" +
                    (denied ? " Use AWS credentials allowed to create and describe images (-AwsProfileName)." : " Nothing was changed in Scalr."),
                    target, e) { BackendCode = e.ErrorCode };
            }
            catch (AmazonServiceException e)
            {
                throw new TtmException(TtmErrorCode.ConnectionFailed,
                    $"EC2 {what} in {region} failed: {e.Message} Check -AwsRegion, -Ec2EndpointUrl and the network.", target, e);
            }
            catch (AmazonClientException e)
            {
                throw new TtmException(TtmErrorCode.ConnectionFailed,
                    $"EC2 {what} in {region} could not run: {e.Message} Check the AWS credentials (-AwsProfileName) and -AwsRegion.", target, e);
            }
        }

        private IAmazonEC2 ClientFor(string region) => _clients.GetOrAdd(region, r =>
        {
            var config = new AmazonEC2Config { RegionEndpoint = RegionEndpoint.GetBySystemName(r) };
            if (!string.IsNullOrWhiteSpace(_options.Ec2EndpointUrl))
            {
                config.ServiceURL = _options.Ec2EndpointUrl;
                config.AuthenticationRegion = r;
            }
            var credentials = ProfileCredentials();
            return credentials == null ? new AmazonEC2Client(config) : new AmazonEC2Client(credentials, config);
        });

        /// <summary>The -AwsProfileName credentials (null for the SDK's default chain), or an error naming the missing profile.</summary>
        public AWSCredentials? ProfileCredentials()
        {
            if (string.IsNullOrWhiteSpace(_options.AwsProfileName)) return null;
            if (!new CredentialProfileStoreChain().TryGetAWSCredentials(_options.AwsProfileName, out AWSCredentials credentials))
                throw new TtmException(TtmErrorCode.ConfigInvalid,
                    $"There is no AWS profile named '{_options.AwsProfileName}' in the shared credentials file. Create it (aws configure --profile {_options.AwsProfileName}) or pass another -AwsProfileName.",
                    _options.AwsProfileName);
            return credentials;
        }
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;

namespace Rebundle.ScalrApi;

/// <summary>
/// What real Scalr does in the cloud for the loopback Scalr: its servers are instances of an
/// EC2 endpoint (the loopback one from tests/Rebundle.Ec2Endpoint), launched, found and
/// terminated with the real AWSSDK.EC2 client. With the EC2 endpoint seeded with the runbook's
/// fleet, both sides describe the same servers and images, so a snapshot (CreateImage of a
/// server's cloudServerId) works end to end.
/// </summary>
public sealed class Ec2Link : IDisposable
{
    /// <summary>The access key and secret the loopback EC2 endpoint knows by default (it verifies the signature).</summary>
    public const string DefaultAccessKey = "AKIDTTMTESTKEY000001";

    public const string DefaultSecretKey = "ttm-loopback-secret-000001";

    private readonly AmazonEC2Client _ec2;

    public Ec2Link(string endpointUrl, string region, string accessKey, string secretKey)
    {
        var config = new AmazonEC2Config { ServiceURL = endpointUrl, AuthenticationRegion = region, MaxErrorRetry = 2 };
        _ec2 = new AmazonEC2Client(new BasicAWSCredentials(accessKey, secretKey), config);
    }

    /// <summary>Image name → AMI id of every image the endpoint has.</summary>
    public IReadOnlyDictionary<string, string> ImagesByName()
    {
        var images = new Dictionary<string, string>(StringComparer.Ordinal);
        string? token = null;
        do
        {
            var page = _ec2.DescribeImagesAsync(new DescribeImagesRequest { Owners = new List<string> { "self" }, NextToken = token }).GetAwaiter().GetResult();
            foreach (var image in page.Images ?? new List<Image>()) images[image.Name] = image.ImageId;
            token = page.NextToken;
        }
        while (!string.IsNullOrEmpty(token));
        return images;
    }

    /// <summary>True when EC2 has the image.</summary>
    public bool HasImage(string amiId) =>
        (_ec2.DescribeImagesAsync(new DescribeImagesRequest { Filters = new List<Filter> { new("image-id", new List<string> { amiId }) } })
            .GetAwaiter().GetResult().Images ?? new List<Image>()).Count > 0;

    /// <summary>Running instances tagged ttm:farm/ttm:alias/ttm:index (how the EC2 runbook seed marks its servers).</summary>
    public IReadOnlyDictionary<(string Farm, string Alias, int Index), string> TaggedInstances()
    {
        var found = new Dictionary<(string, string, int), string>();
        string? token = null;
        do
        {
            var page = _ec2.DescribeInstancesAsync(new DescribeInstancesRequest
            {
                Filters = new List<Filter> { new("instance-state-name", new List<string> { "pending", "running" }), new("tag-key", new List<string> { "ttm:farm" }) },
                NextToken = token,
            }).GetAwaiter().GetResult();
            foreach (var instance in (page.Reservations ?? new List<Reservation>()).SelectMany(r => r.Instances ?? new List<Instance>()))
            {
                string? Tag(string key) => instance.Tags?.FirstOrDefault(t => t.Key == key)?.Value;
                if (Tag("ttm:farm") is { } farm && Tag("ttm:alias") is { } alias && int.TryParse(Tag("ttm:index"), out var index))
                    found[(farm, alias, index)] = instance.InstanceId;
            }
            token = page.NextToken;
        }
        while (!string.IsNullOrEmpty(token));
        return found;
    }

    /// <summary>Launches one instance of <paramref name="amiId"/>, tagged like the seed's.</summary>
    public string Run(string amiId, string farm, string alias, string role, int index)
    {
        var response = _ec2.RunInstancesAsync(new RunInstancesRequest
        {
            ImageId = amiId,
            MinCount = 1,
            MaxCount = 1,
            InstanceType = InstanceType.T3Small,
            TagSpecifications = new List<TagSpecification>
            {
                new()
                {
                    ResourceType = ResourceType.Instance,
                    Tags = new List<Tag>
                    {
                        new("Name", $"{farm}/{alias}.{index}"), new("ttm:farm", farm), new("ttm:alias", alias),
                        new("ttm:role", role), new("ttm:index", index.ToString()), new("scalr-meta", "loopback"),
                    },
                },
            },
        }).GetAwaiter().GetResult();
        return response.Reservation.Instances[0].InstanceId;
    }

    public void Terminate(string instanceId)
    {
        if (instanceId.Length == 0) return;
        _ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = new List<string> { instanceId } }).GetAwaiter().GetResult();
    }

    public void Dispose() => _ec2.Dispose();
}

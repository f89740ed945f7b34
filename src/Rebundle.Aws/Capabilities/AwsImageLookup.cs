using Amazon.EC2.Model;
using Rebundle.Aws.Ec2;
using Rebundle.Backends;
using Image = Rebundle.Domain.Image;

namespace Rebundle.Aws
{
    /// <summary>
    /// Finding images by name: a resumed rebundle looks for an image started just before a crash,
    /// before its journal could record the id. It reads the connection's <see cref="UnseenObjects"/>
    /// (shared with the backend) for an image made a moment ago that EC2 does not list yet.
    /// </summary>
    internal sealed class AwsImageLookup : IImageLookup
    {
        private readonly Ec2Calls _calls;
        private readonly UnseenObjects _unseen;

        public AwsImageLookup(Ec2Calls calls, UnseenObjects unseen)
        {
            _calls = calls;
            _unseen = unseen;
        }

        /// <summary>This account's images with exactly this name (AMI names are unique per account and region), and one made this session that EC2 does not list yet.</summary>
        public IReadOnlyList<Image> FindImagesByName(string name, CancellationToken cancellationToken = default)
        {
            var found = _calls.All<Amazon.EC2.Model.Image>($"Looking for image {name}", cancellationToken, async (ec2, token, cancel) =>
            {
                var response = await ec2.DescribeImagesAsync(new DescribeImagesRequest
                {
                    Owners = new List<string> { "self" },
                    Filters = new List<Filter> { TtmTags.Filter("name", name) },
                    MaxResults = Ec2Reads.InstancePage,
                    NextToken = token,
                }, cancel).ConfigureAwait(false);
                return (response.Images, response.NextToken);
            }).Select(AwsMapping.ImageOf).ToList();
            return _unseen.WithUnseenImages(found, i => i.Name == name);
        }
    }
}

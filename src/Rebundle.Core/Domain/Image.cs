namespace Rebundle.Domain
{
    /// <summary>The cloud machine image behind a role (an AMI on AWS and Scalr).</summary>
    public sealed record Image
    {
        public string Id { get; init; } = "";

        public string Name { get; init; } = "";

        public ImageStatus Status { get; init; }

        public DateTimeOffset? CreatedAt { get; init; }

        /// <summary>The id of the server the image was made from, when known.</summary>
        public string? SourceServerId { get; init; }

        /// <summary>Why the image failed, when the backend says.</summary>
        public string? StatusReason { get; init; }

        public override string ToString() => Id;
    }
}

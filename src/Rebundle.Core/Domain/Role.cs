namespace Rebundle.Domain
{
    /// <summary>
    /// A named server configuration with one machine image. Production roles have a bare
    /// name (<c>RailsAppServer</c>); versioned roles carry a version (<c>RailsAppServer-2-5</c>).
    /// </summary>
    public sealed record Role
    {
        public string Name { get; init; } = "";

        public string BaseName { get; init; } = "";

        public RoleVersion? Version { get; init; }

        public bool IsVersioned => Version != null;

        public string ImageId { get; init; } = "";

        /// <summary>The backend's id of the role.</summary>
        public string Id { get; init; } = "";

        public DateTimeOffset? CreatedAt { get; init; }

        /// <summary>
        /// The rebundle run that created this role, as the backend recorded it (a field in the
        /// Sandbox, a tag on AWS, the description on Scalr); null when made otherwise.
        /// </summary>
        public string? CreatedByRun { get; init; }

        /// <summary>Builds a role whose base name and version come from its name.</summary>
        public static Role Named(string name, string imageId, string? id = null, DateTimeOffset? createdAt = null)
        {
            var parsed = RoleName.Parse(name);
            return new Role
            {
                Name = parsed.FullName,
                BaseName = parsed.BaseName,
                Version = parsed.Version,
                ImageId = imageId,
                Id = id ?? parsed.FullName,
                CreatedAt = createdAt,
            };
        }

        public override string ToString() => Name;
    }
}

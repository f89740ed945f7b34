using Rebundle.Domain;

namespace Rebundle.Backends
{
    /// <summary>
    /// Which servers to read. Null means "any". Backends push the filters down to the
    /// cloud (tag filters on AWS) where they can.
    /// </summary>
    public sealed record ServerQuery
    {
        public static readonly ServerQuery All = new ServerQuery();

        public IReadOnlyCollection<string>? Farms { get; init; }

        /// <summary>Farm-role aliases (the role name a server serves as).</summary>
        public IReadOnlyCollection<string>? Aliases { get; init; }

        /// <summary>Backend server ids.</summary>
        public IReadOnlyCollection<string>? Ids { get; init; }

        public IReadOnlyCollection<ServerStatus>? Statuses { get; init; }

        public bool IncludeTerminated { get; init; }
    }
}

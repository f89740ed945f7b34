namespace Rebundle.Domain
{
    /// <summary>A named group of servers run together, e.g. <c>Rebundle-Staging</c>, <c>Dev</c>, <c>Production</c>.</summary>
    public sealed record Farm
    {
        public string Name { get; init; } = "";

        /// <summary>The backend's id (the name itself on AWS and the Sandbox, a number on Scalr).</summary>
        public string Id { get; init; } = "";

        public int FarmRoleCount { get; init; }

        public override string ToString() => Name;
    }
}

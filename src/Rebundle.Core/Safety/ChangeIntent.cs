namespace Rebundle.Safety
{
    /// <summary>
    /// One change a backend is about to make, described by what it touches: the farms whose
    /// servers or farm roles it changes. A role's image touches every farm running the role;
    /// a snapshot touches the farm of the server it is taken from.
    /// </summary>
    public sealed record ChangeIntent
    {
        /// <summary>CreateImage, CreateRole, SetRoleImage, SetFarmRoleRole, LaunchServer, TerminateServer, DeleteRole, RegisterTargets, DeregisterTargets.</summary>
        public string Action { get; init; } = "";

        /// <summary>
        /// What is changed, in the one target form the audit log uses: <c>Farm/Alias</c> for a farm
        /// role, <c>Farm/Alias/Server</c> for a server, <c>role/Name</c> for a role.
        /// </summary>
        public string Target { get; init; } = "";

        /// <summary>Every farm the change touches.</summary>
        public IReadOnlyList<string> Farms { get; init; } = Array.Empty<string>();

        /// <summary>What it will be before and after, for the audit log.</summary>
        public string? Before { get; init; }

        public string? After { get; init; }

        /// <summary>One sentence for prompts and errors, e.g. "Terminate server Production/Sidekiq/Sidekiq.1".</summary>
        public string Description { get; init; } = "";

        public static string FarmRoleTarget(string farm, string alias) => farm + "/" + alias;

        public static string ServerTarget(string farm, string alias, string server) => farm + "/" + alias + "/" + server;

        public static string RoleTarget(string role) => "role/" + role;
    }
}

namespace Rebundle.Domain
{
    /// <summary>One instance of a farm role, known by its friendly name <c>&lt;Alias&gt;.&lt;Index&gt;</c>.</summary>
    public sealed record Server
    {
        /// <summary>Friendly name, e.g. <c>RailsAppServer.1</c>.</summary>
        public string Name => Alias + "." + Index;

        public string Farm { get; init; } = "";

        public string FarmId { get; init; } = "";

        /// <summary>The farm role's alias: the role name infrastructure scripts know this server by.</summary>
        public string Alias { get; init; } = "";

        /// <summary>The role the server was launched from.</summary>
        public string Role { get; init; } = "";

        public int Index { get; init; }

        public ServerStatus Status { get; init; }

        /// <summary>The backend's id: an EC2 instance id on AWS, Scalr's server id on Scalr (a pending server has no instance yet).</summary>
        public string Id { get; init; } = "";

        /// <summary>The backend's id of the farm role the server belongs to.</summary>
        public string FarmRoleId { get; init; } = "";

        public string ImageId { get; init; } = "";

        public string? PublicIp { get; init; }

        public string? PrivateIp { get; init; }

        public string? Region { get; init; }

        public DateTimeOffset? LaunchedAt { get; init; }

        /// <summary>
        /// The Auto Scaling group that launches and replaces this server (AWS: its
        /// aws:autoscaling:groupName tag), null when none: a recycle leaves such farm roles to the group.
        /// </summary>
        public string? AutoScalingGroup { get; init; }

        /// <summary>The address to reach it on: public if it has one, else private.</summary>
        public string? Address => string.IsNullOrEmpty(PublicIp) ? PrivateIp : PublicIp;

        public override string ToString() => Farm + "/" + Name;
    }
}

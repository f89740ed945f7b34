namespace Rebundle.Sandbox
{
    // The Sandbox fleet exactly as it is stored in its JSON file. Times are UTC; a server's
    // or image's status is not stored but computed from these timestamps (SandboxSimulation).

    internal sealed class SandboxState
    {
        public int SchemaVersion { get; set; } = 1;

        public long NextNumber { get; set; } = 1;

        public SimulationSettings Simulation { get; set; } = new SimulationSettings();

        public List<FarmRecord> Farms { get; set; } = new List<FarmRecord>();

        public List<FarmRoleRecord> FarmRoles { get; set; } = new List<FarmRoleRecord>();

        public List<RoleRecord> Roles { get; set; } = new List<RoleRecord>();

        public List<ImageRecord> Images { get; set; } = new List<ImageRecord>();

        public List<ServerRecord> Servers { get; set; } = new List<ServerRecord>();

        /// <summary>The simulated load balancer's target groups (SandboxLoadBalancing).</summary>
        public List<TargetGroupRecord> TargetGroups { get; set; } = new List<TargetGroupRecord>();
    }

    internal sealed class TargetGroupRecord
    {
        public string Name { get; set; } = "";

        public List<TargetRecord> Targets { get; set; } = new List<TargetRecord>();
    }

    /// <summary>One registration of a server; its health is computed from these times (SandboxLoadBalancing.HealthOf).</summary>
    internal sealed class TargetRecord
    {
        public string ServerId { get; set; } = "";

        public DateTimeOffset RegisteredAt { get; set; }

        public DateTimeOffset? DeregisteredAt { get; set; }
    }

    /// <summary>Rehearsal knobs: how long things take, and which of them fail.</summary>
    internal sealed class SimulationSettings
    {
        public double BootSeconds { get; set; } = 2;

        /// <summary>Each boot takes BootSeconds plus a share of this, drawn from the seeded sequence (0: every boot alike).</summary>
        public double BootSpreadSeconds { get; set; }

        public int BootSeed { get; set; }

        /// <summary>How many boots have been drawn since the seed was set: the next draw is the sequence's next number.</summary>
        public long BootDraws { get; set; }

        public double ImageSeconds { get; set; } = 3;

        public double RespawnSeconds { get; set; } = 2;

        /// <summary>"Farm/Alias" of farm roles whose new servers fail to boot.</summary>
        public List<string> FailBoot { get; set; } = new List<string>();

        /// <summary>"Farm/Alias" of farm roles whose new servers stay pending forever.</summary>
        public List<string> NeverBoot { get; set; } = new List<string>();

        /// <summary>Image names (the role they are made for) whose creation fails.</summary>
        public List<string> FailImage { get; set; } = new List<string>();

        /// <summary>How long a registered target stays "initial" after it registered and booted (interval × healthy threshold).</summary>
        public double HealthSeconds { get; set; } = 1;

        /// <summary>How long a deregistered (or terminated) target drains: the deregistration delay.</summary>
        public double DrainSeconds { get; set; } = 1;

        /// <summary>"Farm/Alias" of farm roles whose new servers fail their load balancer health checks.</summary>
        public List<string> FailHealth { get; set; } = new List<string>();
    }

    internal sealed class FarmRecord
    {
        public string Id { get; set; } = "";

        public string Name { get; set; } = "";
    }

    internal sealed class FarmRoleRecord
    {
        public string Id { get; set; } = "";

        public string FarmId { get; set; } = "";

        public string Alias { get; set; } = "";

        public string Role { get; set; } = "";

        public int Count { get; set; }

        /// <summary>Names of the target groups its servers serve from; empty: no load balancer.</summary>
        public List<string> TargetGroups { get; set; } = new List<string>();
    }

    internal sealed class RoleRecord
    {
        public string Id { get; set; } = "";

        public string Name { get; set; } = "";

        public string ImageId { get; set; } = "";

        public DateTimeOffset CreatedAt { get; set; }

        /// <summary>The rebundle run that made the role, if one did.</summary>
        public string? CreatedByRun { get; set; }

        /// <summary>Images the role used before, oldest first, for rollback.</summary>
        public List<string> PreviousImages { get; set; } = new List<string>();
    }

    internal sealed class ImageRecord
    {
        public string Id { get; set; } = "";

        public string Name { get; set; } = "";

        public DateTimeOffset CreatedAt { get; set; }

        public DateTimeOffset ReadyAt { get; set; }

        public bool Fails { get; set; }

        public string? SourceServerId { get; set; }
    }

    internal sealed class ServerRecord
    {
        public string Id { get; set; } = "";

        public string FarmRoleId { get; set; } = "";

        public int Index { get; set; }

        public string Role { get; set; } = "";

        public string ImageId { get; set; } = "";

        public string PrivateIp { get; set; } = "";

        public string PublicIp { get; set; } = "";

        public DateTimeOffset LaunchedAt { get; set; }

        /// <summary>When boot ends (running, or failed); null: never.</summary>
        public DateTimeOffset? BootedAt { get; set; }

        public bool BootFails { get; set; }

        /// <summary>Boots, but fails its load balancer health checks (Set-TtmSandbox -FailHealth).</summary>
        public bool HealthFails { get; set; }

        public DateTimeOffset? TerminatedAt { get; set; }
    }
}

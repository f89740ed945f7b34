namespace Rebundle.PowerShell.Infrastructure
{
    /// <summary>What Connect-TtmFleet returns: which backend this session talks to, and where.</summary>
    public sealed class FleetConnection
    {
        internal FleetConnection(Fleet fleet, DateTimeOffset connectedAt, string? configurationPath, string auditLogPath)
        {
            AuditLogPath = auditLogPath;
            Fleet = fleet;
            ConnectedAt = connectedAt;
            ConfigurationPath = configurationPath;
        }

        public string Backend => Fleet.Backend.Kind.ToString();

        public string Location => Fleet.Backend.Location;

        public DateTimeOffset ConnectedAt { get; }

        /// <summary>The name-table configuration file in use, or null for the runbook's defaults.</summary>
        public string? ConfigurationPath { get; }

        /// <summary>Where this session's changes are logged.</summary>
        public string AuditLogPath { get; }

        internal Fleet Fleet { get; }

        public override string ToString() => Backend + " " + Location;
    }
}

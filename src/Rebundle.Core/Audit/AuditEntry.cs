using System;

namespace Rebundle.Audit
{
    /// <summary>One change to the fleet: who made it, when, where, to what, and what it was before and after.</summary>
    public sealed record AuditEntry
    {
        public DateTimeOffset Time { get; init; }

        /// <summary>user@machine.</summary>
        public string User { get; init; } = "";

        public string Backend { get; init; } = "";

        public string Location { get; init; } = "";

        /// <summary>CreateImage, CreateRole, SetRoleImage, SetFarmRoleRole, LaunchServer, TerminateServer, DeleteRole.</summary>
        public string Action { get; init; } = "";

        /// <summary>What was changed, e.g. "Dev/RailsAppServer" or "role RailsAppServer".</summary>
        public string Target { get; init; } = "";

        public string? Before { get; init; }

        public string? After { get; init; }
    }

    /// <summary>Where audit entries go (a JSON-lines file in the module; a list in tests).</summary>
    public interface IAuditSink
    {
        void Write(AuditEntry entry);
    }
}

namespace Rebundle.Audit
{
    /// <summary>How a change ended, as the audit log knows it.</summary>
    public enum AuditOutcome
    {
        /// <summary>Announced, and no outcome was written: the process died or lost the backend's answer mid-change. Check the fleet.</summary>
        Unknown,

        Done,

        Failed,
    }

    /// <summary>
    /// One change to the fleet: who made it, when, where, to what, and what it was before and
    /// after. Written twice: as an intent before the change (if that cannot be written, the change
    /// is not made) and with its outcome after. Get-TtmAuditLog shows one entry per change.
    /// </summary>
    public sealed record AuditEntry
    {
        public DateTimeOffset Time { get; init; }

        /// <summary>user@machine.</summary>
        public string User { get; init; } = "";

        public string Backend { get; init; } = "";

        public string Location { get; init; } = "";

        /// <summary>CreateImage, CreateRole, SetRoleImage, SetFarmRoleRole, LaunchServer, TerminateServer, DeleteRole.</summary>
        public string Action { get; init; } = "";

        /// <summary>What was changed: <c>Farm/Alias</c>, <c>Farm/Alias/Server</c> or <c>role/Name</c>.</summary>
        public string Target { get; init; } = "";

        /// <summary>Every farm the change touched (a role's image touches every farm that runs it).</summary>
        public IReadOnlyList<string> Farms { get; init; } = Array.Empty<string>();

        /// <summary>
        /// Every server a batch launched or terminated, as <c>Farm/Alias/Server</c>: a batch's target is
        /// its farm role, and these let <c>-Target</c> find it by any one server (<see cref="AuditTargets"/>).
        /// </summary>
        public IReadOnlyList<string> Servers { get; init; } = Array.Empty<string>();

        public string? Before { get; init; }

        public string? After { get; init; }

        /// <summary>Pairs the intent line with its outcome line.</summary>
        public string ChangeId { get; init; } = "";

        public AuditOutcome Outcome { get; init; }

        /// <summary>Why it failed, when it did.</summary>
        public string? Error { get; init; }

        /// <summary>True for the line written before the change.</summary>
        public bool IsIntent { get; init; }

        // Records compare lists by reference; entries compare by what they say.
        public bool Equals(AuditEntry? other) =>
            other != null && Time == other.Time && User == other.User && Backend == other.Backend && Location == other.Location &&
            Action == other.Action && Target == other.Target && string.Join("\n", Farms) == string.Join("\n", other.Farms) &&
            string.Join("\n", Servers) == string.Join("\n", other.Servers) &&
            Before == other.Before && After == other.After && ChangeId == other.ChangeId && Outcome == other.Outcome &&
            Error == other.Error && IsIntent == other.IsIntent;

        public override int GetHashCode() => (Time, Action, Target, ChangeId, Outcome).GetHashCode();
    }

    /// <summary>Where audit entries go (a JSON-lines file in the module; a list in tests).</summary>
    public interface IAuditSink
    {
        /// <summary>Makes the entry durable before returning; throws <see cref="Errors.TtmErrorCode.AuditFailed"/> when it cannot.</summary>
        void Write(AuditEntry entry);
    }
}

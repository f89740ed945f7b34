namespace Rebundle.Errors
{
    /// <summary>
    /// Stable reasons for failure. The PowerShell layer turns each into the ErrorId
    /// "Ttm" + name (for example <c>TtmRoleNotFound</c>) and picks the ErrorCategory.
    /// Never renumber or rename: scripts match on these ids.
    /// </summary>
    public enum TtmErrorCode
    {
        NotConnected,
        FarmNotFound,
        FarmRoleNotFound,
        RoleNotFound,
        ServerNotFound,
        ImageNotFound,
        VersionMalformed,
        RoleNameMalformed,
        RoleAlreadyExists,
        ServerNotRunning,
        ImageFailed,
        ImageTimeout,
        ReplacementFailed,
        ReplacementTimeout,
        EmptyInput,
        DuplicateInput,
        ConfigInvalid,
        StateFileLocked,
        StateFileCorrupt,
        ConnectionFailed,
        AccessDenied,
        BackendError,
        InvalidArgument,
        SshKeyNotFound,
        SshHostKeyRejected,
        SshConnectionFailed,
        SshCommandFailed,
        SshTimeout,
        CheckFailed,

        /// <summary>A change touches a protected farm and was not approved (-Force, -ApproveProduction or a Yes at the prompt).</summary>
        ApprovalRequired,

        /// <summary>Another run holds the lease on a farm (or the lock on a journal) this run would change.</summary>
        FarmBusy,

        /// <summary>The audit log could not be written, so the change it announces was not made.</summary>
        AuditFailed,

        /// <summary>A role this run would adopt was made by someone else (another run or by hand).</summary>
        RoleConflict,

        /// <summary>A journal cannot be trusted (not a Rebundle journal, or broken in the middle).</summary>
        JournalCorrupt,

        /// <summary>The backend kept refusing requests over its rate limit after retrying for as long as allowed.</summary>
        Throttled,

        /// <summary>Servers of a farm role belong to an AWS Auto Scaling group: the group replaces them (instance refresh), never Rebundle.</summary>
        ManagedByAutoScaling,

        /// <summary>A target group a farm role names does not exist (or is not visible to these credentials).</summary>
        TargetGroupNotFound,

        /// <summary>The load balancer refused a server as a target (EC2: not running, or in another VPC than the target group).</summary>
        InvalidTarget,

        /// <summary>A replacement was unhealthy in a target group past its health grace: it was deregistered and the old server kept serving.</summary>
        ReplacementUnhealthy,

        /// <summary>The Auto Scaling group a farm role is (or is to be brought in from) does not exist, or launches from another template than the farm role's role.</summary>
        ScalingGroupNotFound,

        /// <summary>A farm role of that farm and alias exists already (New-TtmFarmRole).</summary>
        FarmRoleAlreadyExists,

        /// <summary>A server cannot be reached over Systems Manager: its SSM agent is not online (or it is not a managed instance).</summary>
        ServerUnreachable,
    }
}

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
    }
}

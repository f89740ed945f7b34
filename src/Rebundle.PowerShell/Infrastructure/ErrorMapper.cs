namespace Rebundle.PowerShell.Infrastructure
{
    /// <summary>The one place a core failure becomes a PowerShell error record.</summary>
    internal static class ErrorMapper
    {
        public static ErrorRecord ToRecord(TtmException e, object? target = null)
        {
            var id = e.BackendCode == null ? e.ErrorId : e.ErrorId + "." + e.BackendCode;
            var record = new ErrorRecord(e, id, CategoryOf(e.Code), target ?? e.Target);
            return record;
        }

        public static ErrorCategory CategoryOf(TtmErrorCode code)
        {
            switch (code)
            {
                case TtmErrorCode.FarmNotFound:
                case TtmErrorCode.FarmRoleNotFound:
                case TtmErrorCode.RoleNotFound:
                case TtmErrorCode.ServerNotFound:
                case TtmErrorCode.ImageNotFound:
                case TtmErrorCode.SshKeyNotFound:
                case TtmErrorCode.TargetGroupNotFound:
                case TtmErrorCode.ScalingGroupNotFound:
                    return ErrorCategory.ObjectNotFound;
                case TtmErrorCode.VersionMalformed:
                case TtmErrorCode.RoleNameMalformed:
                case TtmErrorCode.InvalidArgument:
                case TtmErrorCode.EmptyInput:
                    return ErrorCategory.InvalidArgument;
                case TtmErrorCode.ConfigInvalid:
                    return ErrorCategory.InvalidData;
                case TtmErrorCode.RoleAlreadyExists:
                case TtmErrorCode.FarmRoleAlreadyExists:
                case TtmErrorCode.DuplicateInput:
                    return ErrorCategory.ResourceExists;
                case TtmErrorCode.NotConnected:
                case TtmErrorCode.ServerNotRunning:
                case TtmErrorCode.ManagedByAutoScaling:
                    return ErrorCategory.InvalidOperation;
                case TtmErrorCode.ImageFailed:
                case TtmErrorCode.ReplacementFailed:
                case TtmErrorCode.ReplacementUnhealthy:
                case TtmErrorCode.InvalidTarget:
                case TtmErrorCode.CheckFailed:
                case TtmErrorCode.SshCommandFailed:
                case TtmErrorCode.BackendError:
                    return ErrorCategory.InvalidResult;
                case TtmErrorCode.ImageTimeout:
                case TtmErrorCode.ReplacementTimeout:
                case TtmErrorCode.SshTimeout:
                    return ErrorCategory.OperationTimeout;
                case TtmErrorCode.ServerUnreachable:
                    return ErrorCategory.ConnectionError;
                case TtmErrorCode.StateFileLocked:
                case TtmErrorCode.FarmBusy:
                    return ErrorCategory.ResourceBusy;
                case TtmErrorCode.ApprovalRequired:
                    return ErrorCategory.PermissionDenied;
                case TtmErrorCode.AuditFailed:
                    return ErrorCategory.WriteError;
                case TtmErrorCode.RoleConflict:
                    return ErrorCategory.ResourceExists;
                case TtmErrorCode.JournalCorrupt:
                    return ErrorCategory.InvalidData;
                case TtmErrorCode.StateFileCorrupt:
                    return ErrorCategory.ReadError;
                case TtmErrorCode.ConnectionFailed:
                case TtmErrorCode.SshConnectionFailed:
                    return ErrorCategory.ConnectionError;
                case TtmErrorCode.AccessDenied:
                    return ErrorCategory.PermissionDenied;
                case TtmErrorCode.SshHostKeyRejected:
                    return ErrorCategory.SecurityError;
                case TtmErrorCode.Throttled:
                    return ErrorCategory.LimitsExceeded;
                default:
                    return ErrorCategory.NotSpecified;
            }
        }
    }
}

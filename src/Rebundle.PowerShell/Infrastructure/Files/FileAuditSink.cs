using Rebundle.Audit;

namespace Rebundle.PowerShell.Infrastructure.Files
{
    /// <summary>The audit log: JSON lines appended to a file, each flushed to disk before the change it announces.</summary>
    internal sealed class FileAuditSink : IAuditSink
    {
        public FileAuditSink(string path) => Path = path;

        public string Path { get; }

        public void Write(AuditEntry entry)
        {
            try
            {
                AppendOnlyFile.AppendLine(Path, AuditCodec.Encode(entry));
            }
            catch (TtmException e)
            {
                throw new TtmException(TtmErrorCode.AuditFailed,
                    $"The audit log {Path} cannot be written ({e.InnerException?.Message ?? e.Message}), so {entry.Action} on {entry.Target} was not done. " +
                    "Make the file writable, or connect again with -AuditLogPath set to a file you can write.", Path, e);
            }
        }

        /// <summary>-AuditLogPath, else $env:REBUNDLE_AUDIT_LOG, else ~/.rebundle/audit.log.</summary>
        public static string DefaultPath()
        {
            var fromEnvironment = Environment.GetEnvironmentVariable("REBUNDLE_AUDIT_LOG");
            return !string.IsNullOrEmpty(fromEnvironment)
                ? fromEnvironment
                : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".rebundle", "audit.log");
        }
    }
}

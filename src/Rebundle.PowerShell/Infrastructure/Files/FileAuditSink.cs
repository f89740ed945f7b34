using System;
using System.IO;
using Rebundle.Audit;

namespace Rebundle.PowerShell.Infrastructure.Files
{
    /// <summary>The audit log: JSON lines appended to a file (see docs/rebundle.md for its location).</summary>
    internal sealed class FileAuditSink : IAuditSink
    {
        public FileAuditSink(string path) => Path = path;

        public string Path { get; }

        public void Write(AuditEntry entry) => AppendOnlyFile.AppendLine(Path, AuditCodec.Encode(entry));

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

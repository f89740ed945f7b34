namespace Rebundle.PowerShell.Infrastructure
{
    /// <summary>The core's reporter, written to the cmdlet's progress, verbose and warning streams.</summary>
    internal sealed class CmdletReporter : IRunbookReporter
    {
        private readonly Cmdlet _cmdlet;

        public CmdletReporter(Cmdlet cmdlet) => _cmdlet = cmdlet;

        public void Progress(ProgressReport report)
        {
            var record = new ProgressRecord(report.ActivityId, report.Activity, string.IsNullOrEmpty(report.Status) ? " " : report.Status)
            {
                PercentComplete = report.Percent < 0 ? -1 : System.Math.Min(100, report.Percent),
                RecordType = report.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
            };
            _cmdlet.WriteProgress(record);
        }

        public void Verbose(string message) => _cmdlet.WriteVerbose(message);

        public void Warning(string message) => _cmdlet.WriteWarning(message);
    }
}

namespace Rebundle.Runbook
{
    /// <summary>
    /// How the core and the backends report while they work. The cmdlets implement it with
    /// Write-Progress, Write-Verbose and Write-Warning; tests collect what is reported.
    /// </summary>
    public interface IRunbookReporter
    {
        void Progress(ProgressReport report);

        void Verbose(string message);

        void Warning(string message);
    }

    /// <summary>One progress line. <see cref="Percent"/> is -1 when unknown.</summary>
    public sealed record ProgressReport(int ActivityId, string Activity, string Status, int Percent = -1, bool Completed = false);

    public sealed class NullReporter : IRunbookReporter
    {
        public static readonly NullReporter Instance = new NullReporter();

        public void Progress(ProgressReport report) { }

        public void Verbose(string message) { }

        public void Warning(string message) { }
    }
}

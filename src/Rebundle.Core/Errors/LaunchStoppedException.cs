using Rebundle.Domain;

namespace Rebundle.Errors
{
    /// <summary>
    /// A batch launch stopped by Ctrl+C after some of its servers were launched (an Auto Scaling
    /// group named its new instances, EC2 was tagging them). It is a cancellation, so a stopping
    /// pipeline stops as it would, but it carries those servers: the recycle's stop terminates
    /// them, which through a group also takes back the capacity it asked for.
    /// </summary>
    public sealed class LaunchStoppedException : OperationCanceledException
    {
        public LaunchStoppedException(IReadOnlyList<Server> launched, OperationCanceledException stop)
            : base($"Stopped while launching; {launched.Count} server(s) had been launched.", stop, stop.CancellationToken)
        {
            Launched = launched;
        }

        /// <summary>The servers of the batch that were launched before the stop (pending).</summary>
        public IReadOnlyList<Server> Launched { get; }
    }
}

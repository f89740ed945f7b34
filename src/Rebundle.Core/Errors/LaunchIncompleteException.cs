using Rebundle.Domain;

namespace Rebundle.Errors
{
    /// <summary>
    /// A batch launch that failed after some of its servers were launched (Scalr's loop of single
    /// launches, AWS's tagging after RunInstances). It carries those servers, so the caller can use
    /// or clean them up instead of leaving them to the next recycle as surplus. Its code is the
    /// cause's, so scripts matching the ErrorId see the same failure as a launch of one.
    /// </summary>
    public sealed class LaunchIncompleteException : TtmException
    {
        public LaunchIncompleteException(TtmException cause, IReadOnlyList<Server> launched, string message)
            : base(cause.Code, message, cause.Target, cause)
        {
            Launched = launched;
            BackendCode = cause.BackendCode;
        }

        /// <summary>The servers of the batch that were launched before the failure (pending).</summary>
        public IReadOnlyList<Server> Launched { get; }
    }
}

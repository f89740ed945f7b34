using Rebundle.Errors;

namespace Rebundle.Scalr
{
    /// <summary>
    /// A POST whose answer was lost (timeout, dropped connection, 5xx): Scalr may or may not have
    /// acted. Never repeated blindly; the backend reads to find out and goes on from what exists
    /// (ScalrBackend.Reconcile). Carries the error to report if that does not settle it.
    /// </summary>
    public sealed class ScalrOutcomeUnknownException : TtmException
    {
        public ScalrOutcomeUnknownException(TtmException lost)
            : base(lost.Code, lost.Message, lost.Target, lost)
        {
            BackendCode = lost.BackendCode;
        }

        public TtmException Lost => (TtmException)InnerException!;
    }
}

namespace Rebundle.Errors
{
    /// <summary>
    /// A failure the operator can act on. The message says what went wrong and what to do;
    /// <see cref="Target"/> names the object it is about (a farm, role, server or image name).
    /// </summary>
    public class TtmException : Exception
    {
        public TtmException(TtmErrorCode code, string message, object? target = null, Exception? inner = null)
            : base(message, inner)
        {
            Code = code;
            Target = target;
        }

        public TtmErrorCode Code { get; }

        public object? Target { get; }

        /// <summary>The stable ErrorId scripts match on, e.g. <c>TtmRoleNotFound</c>.</summary>
        public string ErrorId => "Ttm" + Code;

        /// <summary>Extra detail from the backend (an AWS or Scalr error code), appended to the ErrorId.</summary>
        public string? BackendCode { get; init; }
    }
}

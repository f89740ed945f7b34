using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using Amazon.Runtime;
using Rebundle.Errors;

namespace Rebundle.Aws.Ec2
{
    /// <summary>
    /// Turns what the SDK throws into <see cref="TtmException"/>s that say what to do. The AWS
    /// error code travels along as <see cref="TtmException.BackendCode"/>.
    /// </summary>
    public static class AwsErrors
    {
        private static readonly HashSet<string> DeniedCodes = new HashSet<string>(StringComparer.Ordinal)
        {
            "AuthFailure", "UnauthorizedOperation", "InvalidClientTokenId", "SignatureDoesNotMatch", "AccessDenied",
            "AccessDeniedException", "MissingAuthenticationToken", "ExpiredToken", "RequestExpired", "OptInRequired", "Blocked",
        };

        private static readonly HashSet<string> BusyCodes = new HashSet<string>(StringComparer.Ordinal)
        {
            "RequestLimitExceeded", "Throttling", "ThrottlingException", "ServiceUnavailable", "Unavailable", "InternalError", "InternalFailure",
        };

        /// <summary>
        /// The TtmException for <paramref name="error"/>. <paramref name="doing"/> says what was
        /// attempted ("Reading instances"); <paramref name="notFound"/> names the code to use when
        /// EC2 says the object does not exist.
        /// </summary>
        public static TtmException Map(Exception error, string doing, string location, object? target = null, TtmErrorCode notFound = TtmErrorCode.BackendError, Ec2Parameters? names = null)
        {
            names ??= Ec2Parameters.Aws;
            if (error is TtmException ttm) return ttm;
            if (error is AggregateException aggregate && aggregate.InnerExceptions.Count == 1) error = aggregate.InnerExceptions[0];

            if (error is AmazonServiceException service && !string.IsNullOrEmpty(service.ErrorCode))
            {
                var code = service.ErrorCode;
                if (DeniedCodes.Contains(code))
                    return new TtmException(TtmErrorCode.AccessDenied,
                        $"{doing} was refused by EC2 ({location}): {code}: {service.Message} Check the credentials (environment variables, {names.Profile}, instance role) and that they are allowed the EC2 actions listed in docs/aws.md.",
                        target, error) { BackendCode = code };
                if (BusyCodes.Contains(code))
                    return new TtmException(TtmErrorCode.BackendError,
                        $"{doing} failed: EC2 ({location}) stayed busy ({code}: {service.Message}) through every retry. Wait a minute and run the command again.",
                        target, error) { BackendCode = code };
                if (code.IndexOf("AlreadyExists", StringComparison.Ordinal) >= 0)
                    return new TtmException(TtmErrorCode.RoleAlreadyExists,
                        $"{doing} failed: it exists already (EC2 says {code}: {service.Message}). A role is never overwritten; pick another name or version.", target, error) { BackendCode = code };
                if (code == "InvalidAMIName.Duplicate")
                    return new TtmException(TtmErrorCode.BackendError,
                        $"{doing} failed: an image of that name exists already ({service.Message}). Deregister it (EC2 console, AMIs) if it is a failed leftover, or snapshot to another version.", target, error) { BackendCode = code };
                if (code == "IncorrectInstanceState")
                    return new TtmException(TtmErrorCode.ServerNotRunning,
                        $"{doing} failed: the server is not in a state for it (EC2 says {code}: {service.Message}). Wait until it runs (Get-TtmServer), then try again.", target, error) { BackendCode = code };
                if (code.EndsWith(".NotFound", StringComparison.Ordinal) || code.EndsWith(".NotFoundException", StringComparison.Ordinal) || code.StartsWith("InvalidAMIID.", StringComparison.Ordinal))
                    return new TtmException(notFound == TtmErrorCode.BackendError ? NotFoundCodeOf(code) : notFound,
                        $"{doing} failed: EC2 says {code}: {service.Message}", target, error) { BackendCode = code };
                return new TtmException(TtmErrorCode.BackendError, $"{doing} failed: EC2 ({location}) says {code}: {service.Message}", target, error) { BackendCode = code };
            }

            if (IsNetwork(error))
                return new TtmException(TtmErrorCode.ConnectionFailed,
                    $"{doing} failed: cannot reach EC2 at {location} ({Innermost(error).Message}). Check {names.Region} or {names.Endpoint} and the network, then connect again.",
                    target, error);

            if (error is AmazonClientException client && client.Message.IndexOf("credential", StringComparison.OrdinalIgnoreCase) >= 0)
                // The SDK's own text lists every provider it tried; it stays in the inner exception.
                return new TtmException(TtmErrorCode.AccessDenied,
                    $"{doing} failed: no AWS credentials were found in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), the shared credentials and config files, or an instance role. Set the variables, run 'aws configure', or pass {names.Profile}.",
                    target, error);

            return new TtmException(TtmErrorCode.BackendError, $"{doing} failed against EC2 ({location}): {Innermost(error).Message}", target, error);
        }

        private static TtmErrorCode NotFoundCodeOf(string awsCode) =>
            awsCode.StartsWith("InvalidInstanceID", StringComparison.Ordinal) ? TtmErrorCode.ServerNotFound
            : awsCode.StartsWith("InvalidAMIID", StringComparison.Ordinal) ? TtmErrorCode.ImageNotFound
            : TtmErrorCode.BackendError;

        private static bool IsNetwork(Exception error)
        {
            for (var e = error; e != null; e = e.InnerException)
            {
                if (e is HttpRequestException || e is SocketException || e is WebException || e is IOException || e is TimeoutException ||
                    e is OperationCanceledException)
                    return true;
            }
            return false;
        }

        /// <summary>The root cause of a failed request (the socket's refusal under the HTTP wrappers), for a message.</summary>
        internal static Exception Innermost(Exception error)
        {
            var e = error;
            while (e.InnerException != null) e = e.InnerException;
            return e;
        }
    }
}

using System.Net;
using System.Text.Json;
using Rebundle.Errors;

namespace Rebundle.Scalr
{
    /// <summary>
    /// Turns Scalr's error envelope (<c>{"errors":[{"code":"…","message":"…"}]}</c>) into a
    /// <see cref="TtmException"/>: the Scalr code goes to <see cref="TtmException.BackendCode"/>,
    /// the HTTP status picks the <see cref="TtmErrorCode"/>, and the message says what to do.
    /// </summary>
    internal static class ScalrErrors
    {
        public static TtmException FromResponse(string method, string path, HttpStatusCode status, string body, string keyId)
        {
            var (code, message) = ReadEnvelope(body);
            var what = $"Scalr answered {method} {path} with {(int)status} {code ?? status.ToString()}" + (message == null ? "." : $": {message}");
            if (!what.EndsWith(".", StringComparison.Ordinal)) what += ".";
            var (ttmCode, advice) = Classify(status, code, path, keyId);
            return new TtmException(ttmCode, what + " " + advice, path) { BackendCode = code ?? ((int)status).ToString() };
        }

        private static (TtmErrorCode, string) Classify(HttpStatusCode status, string? code, string path, string keyId)
        {
            switch ((int)status)
            {
                case 403 when code == "LimitExceeded":
                    // Scalr's rate limit; the client retries it, so this is seen only when retries are off.
                    return (TtmErrorCode.Throttled, "Scalr's rate limit for this API key was reached. Wait a little and try again.");
                case 403 when code == "ObjectNotFound":
                    // Scalr's answer for an environment the key cannot see.
                    return (TtmErrorCode.AccessDenied,
                        $"Scalr has no environment here that API key {keyId} can use. Check -EnvironmentId (SCALR_ENV_ID), or use a key with access to it.");
                case 401:
                    return (TtmErrorCode.AccessDenied,
                        $"The request signature for API key {keyId} was not accepted. Check -KeyId and -Secret, and that this computer's clock is right (Scalr rejects requests whose date is far off).");
                case 403:
                    return (TtmErrorCode.AccessDenied,
                        $"API key {keyId} may not do this. Ask a Scalr administrator for access to the environment, or use a key that has it.");
                case 404:
                    return (NotFoundCode(path), "It may have been removed; list it again (Get-TtmFarm, Get-TtmRole, Get-TtmServer) and retry.");
                default:
                    return (TtmErrorCode.BackendError, "Nothing further was changed by this request. Fix the cause above or try again later.");
            }
        }

        /// <summary>
        /// The most specific not-found code for a route: the last collection named in the path
        /// with an id after it. A route ending in a collection under an object
        /// (<c>farm-roles/40/servers/</c>, a launch or a list) misses that object, the farm role,
        /// not a server; a top-level list (<c>farms/</c> of an unknown environment) keeps its own.
        /// </summary>
        internal static TtmErrorCode NotFoundCode(string path)
        {
            var query = path.IndexOf('?');
            var segments = (query < 0 ? path : path.Substring(0, query)).Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries);
            for (var i = segments.Length - 2; i >= 0; i--)
            {
                if (CollectionCode(segments[i]) is { } code) return code;
            }
            return segments.Length > 0 && CollectionCode(segments[segments.Length - 1]) is { } last ? last : TtmErrorCode.BackendError;
        }

        private static TtmErrorCode? CollectionCode(string segment)
        {
            switch (segment)
            {
                case "servers": return TtmErrorCode.ServerNotFound;
                case "images": return TtmErrorCode.ImageNotFound;
                case "farm-roles": return TtmErrorCode.FarmRoleNotFound;
                case "roles": return TtmErrorCode.RoleNotFound;
                case "farms": return TtmErrorCode.FarmNotFound;
                default: return null;
            }
        }

        private static (string? code, string? message) ReadEnvelope(string body)
        {
            if (string.IsNullOrWhiteSpace(body)) return (null, null);
            try
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.ValueKind == JsonValueKind.Object &&
                    doc.RootElement.TryGetProperty("errors", out var errors) &&
                    errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
                {
                    var first = errors[0];
                    return (Text(first, "code"), Text(first, "message"));
                }
            }
            catch (JsonException)
            {
                // Not Scalr's envelope (a proxy's HTML page, say); the status alone has to do.
            }
            return (null, null);
        }

        private static string? Text(JsonElement element, string name) =>
            element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
    }
}

using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using System.Xml;
using System.Xml.Linq;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Rebundle.Aws.Ec2;
using Rebundle.Errors;

namespace Rebundle.Aws.Query
{
    /// <summary>
    /// A small client for AWS services spoken over the Query protocol (ELBv2 now, Auto Scaling
    /// next): form-encoded POST of Action=…&amp;Version=…, SigV4-signed with the connection's own
    /// credentials, XML answers, errors mapped to TtmExceptions as <see cref="AwsErrors"/> does for
    /// EC2. It exists because AWSSDK.ElasticLoadBalancingV2 is not served to this project; when it
    /// is, the typed calls (Elb/Elbv2Calls.cs) can be rewritten over the SDK client and this file
    /// deleted, with nothing above the typed calls changing.
    /// Retries are the EC2 client's standard mode, done here: throttling, 5xx and network errors,
    /// exponential backoff with full jitter, at most <c>MaxRetries</c> (4) retries. A cancelled call
    /// throws <see cref="OperationCanceledException"/> at once, also during a backoff.
    /// </summary>
    public sealed class AwsQueryClient : IDisposable
    {
        private static readonly HashSet<string> ThrottleCodes = new HashSet<string>(StringComparer.Ordinal)
        {
            "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "RequestThrottled", "SlowDown",
        };

        private static readonly HashSet<string> DeniedCodes = new HashSet<string>(StringComparer.Ordinal)
        {
            "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch",
            "MissingAuthenticationToken", "ExpiredToken", "RequestExpired", "IncompleteSignature", "OptInRequired",
        };

        private readonly AwsQueryService _service;
        private readonly string _region;
        private readonly Uri _endpoint;
        private readonly HttpClient _http;
        private readonly Lazy<AWSCredentials> _credentials;
        private readonly int _maxRetries;
        private readonly Ec2Parameters _names;
        private readonly object _randomLock = new object();
        private readonly Random _random = new Random();

        /// <param name="credentials">The connection's credentials; null: the SDK's default chain, resolved at the first call (as the EC2 client does).</param>
        /// <param name="endpointUrl">-EndpointUrl when given (an endpoint serving every service on one URL routes by the credential scope); else the region's endpoint.</param>
        public AwsQueryClient(AwsQueryService service, string region, Uri? endpointUrl, AWSCredentials? credentials, int? maxRetries = null, TimeSpan? timeout = null, Ec2Parameters? names = null)
        {
            _service = service;
            _region = region;
            _endpoint = endpointUrl ?? service.DefaultEndpoint(region);
            _maxRetries = Math.Max(0, maxRetries ?? 4);
            _names = names ?? Ec2Parameters.Aws;
            _credentials = new Lazy<AWSCredentials>(() => credentials ?? new DefaultAWSCredentialsIdentityResolver().ResolveIdentity(null));
            _http = new HttpClient { Timeout = timeout ?? TimeSpan.FromSeconds(30) };
            // Shown in messages: scheme, host and path only, never user:password from the URL.
            Location = $"{region} at {_endpoint.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)}";
        }

        public string Location { get; }

        /// <summary>The wait before retry <c>n</c> (1-based); tests may shorten it. Default: full jitter over 100 ms × 2^n, at most 20 s.</summary>
        internal Func<int, TimeSpan>? Backoff { get; set; }

        private TimeSpan DefaultBackoff(int retry)
        {
            var ceiling = Math.Min(20_000, 100 * Math.Pow(2, retry));
            lock (_randomLock) return TimeSpan.FromMilliseconds(_random.NextDouble() * ceiling);
        }

        /// <summary>
        /// Sends <paramref name="action"/> with <paramref name="parameters"/> and returns its
        /// <c>&lt;ActionResult&gt;</c> element. <paramref name="doing"/> says what was attempted, for messages.
        /// </summary>
        public XElement Call(string action, IEnumerable<KeyValuePair<string, string>> parameters, string doing, CancellationToken cancellation, object? target = null)
        {
            cancellation.ThrowIfCancellationRequested();
            try
            {
                // Task.Run keeps a caller's synchronization context (a PowerShell host's) out of the continuations.
                return Task.Run(() => CallWithRetries(action, parameters.ToList(), doing, target, cancellation), cancellation).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                throw new OperationCanceledException($"{doing} was stopped (Ctrl+C) before {_service.DisplayName} ({Location}) answered.", cancellation);
            }
        }

        /// <summary>
        /// Every item of a Marker-paged read: each page's items from <paramref name="items"/>,
        /// the next page asked with the previous page's NextMarker until there is none.
        /// </summary>
        /// <param name="paging">The page parameter and the answer's next-page element: ELBv2's Marker / NextMarker, Auto Scaling's NextToken / NextToken.</param>
        public List<T> All<T>(string action, IEnumerable<KeyValuePair<string, string>> parameters, string doing, CancellationToken cancellation, Func<XElement, IEnumerable<T>> items, object? target = null,
            (string Parameter, string Next)? paging = null)
        {
            var (markerName, nextName) = paging ?? ("Marker", "NextMarker");
            var found = new List<T>();
            var fixedParameters = parameters.ToList();
            string? marker = null;
            do
            {
                var page = marker == null ? fixedParameters : fixedParameters.Concat(new[] { Pair(markerName, marker) });
                var result = Call(action, page, doing, cancellation, target);
                found.AddRange(items(result));
                var next = Child(result, nextName)?.Value;
                if (!string.IsNullOrEmpty(next) && next == marker)
                    throw new TtmException(TtmErrorCode.BackendError, $"{doing} failed: {_service.DisplayName} ({Location}) returned the same page marker twice, so the listing would never end.", target);
                marker = string.IsNullOrEmpty(next) ? null : next;
            }
            while (marker != null);
            return found;
        }

        public static KeyValuePair<string, string> Pair(string key, string value) => new KeyValuePair<string, string>(key, value);

        /// <summary>The first child element named <paramref name="localName"/> (any namespace: answers carry the service's).</summary>
        public static XElement? Child(XElement? parent, string localName) => parent?.Elements().FirstOrDefault(e => e.Name.LocalName == localName);

        /// <summary>The <c>&lt;member&gt;</c>s of the list element <paramref name="listName"/>.</summary>
        public static IEnumerable<XElement> Members(XElement? parent, string listName) =>
            Child(parent, listName)?.Elements().Where(e => e.Name.LocalName == "member") ?? Enumerable.Empty<XElement>();

        private async Task<XElement> CallWithRetries(string action, List<KeyValuePair<string, string>> parameters, string doing, object? target, CancellationToken cancellation)
        {
            var body = Encoding.UTF8.GetBytes(string.Join("&",
                new[] { Pair("Action", action), Pair("Version", _service.Version) }.Concat(parameters)
                    .Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value))));
            for (var attempt = 0; ; attempt++)
            {
                var failure = await Attempt(action, body, cancellation).ConfigureAwait(false);
                if (failure.Result != null) return failure.Result;
                if (!failure.Retryable || attempt >= _maxRetries) throw Map(failure, doing, target, attempt);
                await Task.Delay((Backoff ?? DefaultBackoff)(attempt + 1), cancellation).ConfigureAwait(false);
            }
        }

        private async Task<Outcome> Attempt(string action, byte[] body, CancellationToken cancellation)
        {
            ImmutableCredentials credentials;
            try
            {
                credentials = await _credentials.Value.GetCredentialsAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (!(e is OperationCanceledException))
            {
                return new Outcome { Error = e, NoCredentials = true };
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(body) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
            QuerySigner.Sign(request, body, credentials, _region, _service.SigningName, DateTime.UtcNow);
            try
            {
                using var response = await _http.SendAsync(request, cancellation).ConfigureAwait(false);
                var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
                var status = (int)response.StatusCode;
                var xml = TryParse(text);
                if (status >= 200 && status < 300 && xml != null)
                    return new Outcome { Result = Child(xml.Root, action + "Result") ?? new XElement(action + "Result") };
                var error = xml?.Root?.DescendantsAndSelf().FirstOrDefault(e => e.Name.LocalName == "Error");
                var code = Child(error, "Code")?.Value;
                return new Outcome
                {
                    Status = status,
                    Code = code,
                    Message = Child(error, "Message")?.Value ?? (xml == null ? $"HTTP {status} with an answer that is not XML" : $"HTTP {status}"),
                    Retryable = (code != null && (ThrottleCodes.Contains(code) || _service.RetryableCodes.Contains(code))) || status >= 500 || status == 429,
                };
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e) when (IsNetwork(e))
            {
                // Refused, reset, or the request timeout (HttpClient's own cancellation): transient, retried.
                return new Outcome { Error = e, Retryable = true };
            }
        }

        private TtmException Map(Outcome failure, string doing, object? target, int retries)
        {
            var service = _service.DisplayName;
            if (failure.NoCredentials)
                return new TtmException(TtmErrorCode.AccessDenied,
                    $"{doing} failed: no AWS credentials were found in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), the shared credentials and config files, or an instance role. Set the variables, run 'aws configure', or pass {_names.Profile}.",
                    target, failure.Error);
            if (failure.Error != null)
                return new TtmException(TtmErrorCode.ConnectionFailed,
                    $"{doing} failed: cannot reach {service} at {Location} ({AwsErrors.Innermost(failure.Error).Message}){Tries(retries)}. Check {_names.Region} or {_names.Endpoint} and the network, then connect again.",
                    target, failure.Error);
            var code = failure.Code ?? "HTTP" + failure.Status;
            TtmException Error(TtmErrorCode ttm, string message) => new TtmException(ttm, message, target) { BackendCode = code };
            if (ThrottleCodes.Contains(code))
                return Error(TtmErrorCode.Throttled, $"{doing} failed: {service} ({Location}) kept throttling the requests ({code}: {failure.Message}){Tries(retries)}. Wait a minute and run the command again.");
            if (DeniedCodes.Contains(code))
                return Error(TtmErrorCode.AccessDenied, $"{doing} was refused by {service} ({Location}): {code}: {failure.Message} Check the credentials and that they are allowed the {_service.SigningName}: actions listed in docs/aws.md.");
            if (_service.Codes.TryGetValue(code, out var mapped))
                return Error(mapped, $"{doing} failed: {service} says {code}: {failure.Message}");
            if (failure.Status >= 500)
                return Error(TtmErrorCode.BackendError, $"{doing} failed: {service} ({Location}) stayed unavailable ({code}: {failure.Message}){Tries(retries)}. Wait a minute and run the command again.");
            return Error(TtmErrorCode.BackendError, $"{doing} failed: {service} ({Location}) says {code}: {failure.Message}");
        }

        private static string Tries(int retries) => retries == 0 ? "" : $", after {retries} {(retries == 1 ? "retry" : "retries")}";

        private static XDocument? TryParse(string text)
        {
            if (string.IsNullOrWhiteSpace(text)) return null;
            try { return XDocument.Parse(text); }
            catch (XmlException) { return null; }
        }

        private static bool IsNetwork(Exception error)
        {
            for (var e = error; e != null; e = e.InnerException)
                if (e is HttpRequestException || e is SocketException || e is WebException || e is IOException || e is TimeoutException || e is TaskCanceledException)
                    return true;
            return false;
        }

        public void Dispose() => _http.Dispose();

        /// <summary>One attempt's result: the answer, or what failed and whether trying again may help.</summary>
        private sealed class Outcome
        {
            public XElement? Result;
            public int Status;
            public string? Code;
            public string? Message;
            public Exception? Error;
            public bool NoCredentials;
            public bool Retryable;
        }
    }
}

using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Rebundle.Errors;
using Rebundle.Runbook;

namespace Rebundle.Scalr
{
    /// <summary>
    /// A small typed client for Scalr's APIv2 user scope (<c>/api/v1beta0/user/{envId}/…</c>):
    /// signs every request, unwraps <c>data</c>, follows <c>pagination.next</c> to the end,
    /// turns <c>errors[]</c> into <see cref="TtmException"/>s, retries Scalr's rate limit (403
    /// LimitExceeded) with jittered backoff within a budget, and retries 5xx answers and lost
    /// connections a bounded number of times, except for POSTs (see <see cref="Send"/>).
    /// </summary>
    public sealed class ScalrClient : IDisposable
    {
        /// <summary>Guards against a server whose next links never end.</summary>
        private const int MaxPages = 10_000;
        private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(500);
        private static readonly TimeSpan LongestBackoff = TimeSpan.FromSeconds(20);

        private readonly ScalrConnectionOptions _options;
        private readonly IClock _clock;
        private readonly HttpClient _http;
        private readonly string _root;
        private readonly Random _jitter;
        private readonly object _sharedGate = new object();
        /// <summary>Lists already read, by path and query, while a <see cref="ShareLists"/> scope is open; else null.</summary>
        private Dictionary<string, IReadOnlyList<JsonElement>>? _shared;
        private int _sharing;

        public ScalrClient(ScalrConnectionOptions options, IClock? clock = null, HttpMessageHandler? handler = null, Random? jitter = null)
        {
            _jitter = jitter ?? new Random();
            options.Validate();
            _options = options;
            _clock = clock ?? SystemClock.Instance;
            _http = handler == null ? new HttpClient() : new HttpClient(handler);
            _http.Timeout = options.RequestTimeout ?? TimeSpan.FromSeconds(60);
            var url = options.Url!;
            _root = url.GetLeftPart(UriPartial.Authority) + url.AbsolutePath.TrimEnd('/');
            UserPath = $"/api/v1beta0/user/{options.EnvironmentId}/";
        }

        /// <summary>The path prefix of every route, e.g. <c>/api/v1beta0/user/5/</c>.</summary>
        public string UserPath { get; }

        /// <summary>One line per request and retry (method, path, status); never a header or the secret.</summary>
        public Action<string>? Log { get; set; }

        /// <summary>The <c>data</c> object of a GET.</summary>
        public JsonElement Get(string route, IEnumerable<KeyValuePair<string, string>>? query = null, CancellationToken cancellation = default) =>
            Data(Send(HttpMethod.Get, PathAndQuery(route, query), null, cancellation));

        /// <summary>Every item of a list route, page after page until <c>pagination.next</c> is null.</summary>
        public IReadOnlyList<JsonElement> List(string route, IEnumerable<KeyValuePair<string, string>>? query = null, CancellationToken cancellation = default)
        {
            var first = PathAndQuery(route, query);
            lock (_sharedGate)
            {
                if (_shared != null && _shared.TryGetValue(first, out var known)) return known;
            }
            var items = ReadAllPages(route, first, cancellation);
            lock (_sharedGate)
            {
                if (_shared != null) _shared[first] = items;
            }
            return items;
        }

        /// <summary>
        /// Until the result is disposed, a list read twice is read once (<see cref="List"/>
        /// answers later reads from the first): the backend's <c>ISharedListReads</c>. A change
        /// sent meanwhile (anything but a GET) forgets every list read before it.
        /// </summary>
        public IDisposable ShareLists()
        {
            lock (_sharedGate)
            {
                if (_sharing++ == 0) _shared = new Dictionary<string, IReadOnlyList<JsonElement>>(StringComparer.Ordinal);
            }
            return new SharedListsScope(this);
        }

        /// <summary>Whether a <see cref="ShareLists"/> scope is open: a list read now is read once for the scope.</summary>
        public bool IsSharingLists
        {
            get { lock (_sharedGate) return _sharing > 0; }
        }

        private void EndSharing()
        {
            lock (_sharedGate)
            {
                if (--_sharing == 0) _shared = null;
            }
        }

        private sealed class SharedListsScope : IDisposable
        {
            private ScalrClient? _client;

            public SharedListsScope(ScalrClient client) => _client = client;

            public void Dispose()
            {
                Interlocked.Exchange(ref _client, null)?.EndSharing();
            }
        }

        private IReadOnlyList<JsonElement> ReadAllPages(string route, string first, CancellationToken cancellation)
        {
            var items = new List<JsonElement>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            string? next = first;
            while (next != null)
            {
                if (!seen.Add(next) || seen.Count > MaxPages)
                    throw new TtmException(TtmErrorCode.BackendError, $"Scalr's pagination for {route} loops back to a page already read ({next}); the list was not trusted.", route);
                using var page = Send(HttpMethod.Get, next, null, cancellation);
                var root = page.RootElement;
                if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                    throw Malformed(route, "a list under 'data'");
                items.AddRange(data.EnumerateArray().Select(e => e.Clone()));
                next = NextPage(root);
            }
            return items;
        }

        /// <summary>The <c>data</c> object of a POST with a JSON body.</summary>
        public JsonElement Post(string route, object? body, CancellationToken cancellation = default) =>
            Data(Send(HttpMethod.Post, PathAndQuery(route, null), Serialize(body), cancellation));

        /// <summary>The <c>data</c> object of a PATCH with a JSON body.</summary>
        public JsonElement Patch(string route, object body, CancellationToken cancellation = default) =>
            Data(Send(new HttpMethod("PATCH"), PathAndQuery(route, null), Serialize(body), cancellation));

        /// <summary>
        /// Sends one signed request (re-signed for every retry) and returns the parsed answer,
        /// or throws the mapped error. <paramref name="pathAndQuery"/> starts with '/'.
        /// Refusals the server did not act on (429, 403 LimitExceeded) are retried for any
        /// method; a lost answer (timeout, dropped connection, 5xx) is retried only where
        /// repeating is harmless (not POST): a POST's lost answer is a
        /// <see cref="ScalrOutcomeUnknownException"/>, for the caller to find out what happened.
        /// </summary>
        public JsonDocument Send(HttpMethod method, string pathAndQuery, byte[]? body, CancellationToken cancellation = default)
        {
            if (method == HttpMethod.Get) return Exchange(method, pathAndQuery, body, cancellation);
            // A change, made or perhaps made (a lost answer): no list shared before it answers a read after it.
            try
            {
                return Exchange(method, pathAndQuery, body, cancellation);
            }
            finally
            {
                lock (_sharedGate) _shared?.Clear();
            }
        }

        private JsonDocument Exchange(HttpMethod method, string pathAndQuery, byte[]? body, CancellationToken cancellation)
        {
            var (path, query) = Split(pathAndQuery);
            var canonicalQuery = ScalrSigner.CanonicalQuery(query);
            var target = _root + path + (canonicalQuery.Length == 0 ? "" : "?" + canonicalQuery);
            var bodyText = body == null ? "" : Encoding.UTF8.GetString(body);
            var throttle = new ThrottleBackoff(_options.ThrottleBudget, _jitter);
            for (var attempt = 0; ; attempt++)
            {
                cancellation.ThrowIfCancellationRequested();
                HttpResponseMessage response;
                try
                {
                    response = SendSigned(method, target, path, canonicalQuery, body, bodyText, cancellation);
                }
                catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellation.IsCancellationRequested))
                {
                    var failure = new TtmException(TtmErrorCode.ConnectionFailed,
                        $"Could not reach Scalr at {_options.ShownUrl} ({method.Method} {path}): {Innermost(e).Message}. Check -Url and the network, then try again.", _options.ShownUrl, e);
                    if (!IsSafeToRepeat(method)) throw new ScalrOutcomeUnknownException(failure);
                    if (attempt >= _options.MaxRetries) throw failure;
                    Wait(attempt, null, $"{method.Method} {path} failed to connect ({e.Message})", cancellation);
                    continue;
                }

                using (response)
                {
                    var status = (int)response.StatusCode;
                    var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
                    Log?.Invoke($"Scalr {method.Method} {path}{(canonicalQuery.Length == 0 ? "" : "?" + canonicalQuery)} -> {status}");
                    if (status >= 200 && status <= 299) return Parse(method, path, text);
                    var error = ScalrErrors.FromResponse(method.Method, path, response.StatusCode, text, _options.KeyId);
                    if (IsRateLimited(status, error))
                    {
                        // Scalr did not act: repeating is safe for every method, within the budget.
                        var pause = throttle.Next(response.Headers.RetryAfter?.Delta)
                            ?? throw Throttled(method, path, throttle, error);
                        Log?.Invoke($"Scalr {method.Method} {path} was over the rate limit ({error.BackendCode}); retrying in {pause.TotalSeconds:0.#}s.");
                        _clock.Sleep(pause, cancellation);
                        attempt--; // a refusal is not a failed attempt
                        continue;
                    }
                    if (status >= 500)
                    {
                        if (!IsSafeToRepeat(method)) throw new ScalrOutcomeUnknownException(error);
                        if (attempt < _options.MaxRetries)
                        {
                            Wait(attempt, response.Headers.RetryAfter?.Delta, $"{method.Method} {path} answered {status}", cancellation);
                            continue;
                        }
                    }
                    throw error;
                }
            }
        }

        /// <summary>GET, PATCH (sets fields to values) and DELETE give the same end state when repeated; a POST may act twice.</summary>
        private static bool IsSafeToRepeat(HttpMethod method) => method != HttpMethod.Post;

        /// <summary>Scalr's limiter answers 403 LimitExceeded (not 429); 429 is honoured too.</summary>
        private static bool IsRateLimited(int status, TtmException error) =>
            status == 429 || (status == 403 && error.BackendCode == "LimitExceeded");

        private TtmException Throttled(HttpMethod method, string path, ThrottleBackoff throttle, TtmException last) =>
            new TtmException(TtmErrorCode.Throttled,
                $"Scalr kept refusing {method.Method} {path} over its rate limit ({last.BackendCode}) for {throttle.Slept.TotalSeconds:0} s of retries. " +
                "Other clients may be using the same API key: wait a few minutes and run the command again (a resumable command resumes), or ask a Scalr administrator to raise the key's limit.",
                path, last) { BackendCode = last.BackendCode };

        private HttpResponseMessage SendSigned(HttpMethod method, string target, string path, string canonicalQuery, byte[]? body, string bodyText, CancellationToken cancellation)
        {
            using var request = new HttpRequestMessage(method, target);
            var date = ScalrSigner.FormatDate(DateTimeOffset.UtcNow);
            request.Headers.TryAddWithoutValidation(ScalrSigner.KeyIdHeader, _options.KeyId);
            request.Headers.TryAddWithoutValidation(ScalrSigner.DateHeader, date);
            request.Headers.TryAddWithoutValidation(ScalrSigner.SignatureHeader,
                ScalrSigner.Signature(_options.Secret!, ScalrSigner.StringToSign(method.Method, date, path, canonicalQuery, bodyText)));
            request.Headers.Accept.ParseAdd("application/json");
            if (body != null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            }
            return _http.SendAsync(request, cancellation).GetAwaiter().GetResult();
        }

        private static JsonDocument Parse(HttpMethod method, string path, string text)
        {
            try
            {
                return JsonDocument.Parse(string.IsNullOrWhiteSpace(text) ? "{}" : text);
            }
            catch (JsonException e)
            {
                throw new TtmException(TtmErrorCode.BackendError, $"Scalr answered {method.Method} {path} with something that is not JSON; is -Url the Scalr server?", path, e);
            }
        }

        /// <summary>The route under the user path with its query, e.g. <c>farms/</c> → <c>/api/v1beta0/user/5/farms/</c>.</summary>
        public string PathAndQuery(string route, IEnumerable<KeyValuePair<string, string>>? query)
        {
            var path = UserPath + route.TrimStart('/');
            var q = query == null ? "" : ScalrSigner.CanonicalQuery(query);
            return q.Length == 0 ? path : path + "?" + q;
        }

        public void Dispose() => _http.Dispose();

        private void Wait(int attempt, TimeSpan? retryAfter, string why, CancellationToken cancellation)
        {
            var backoff = TimeSpan.FromTicks(FirstBackoff.Ticks << Math.Min(attempt, 10));
            if (retryAfter.HasValue && retryAfter.Value > backoff) backoff = retryAfter.Value;
            if (backoff > LongestBackoff) backoff = LongestBackoff;
            Log?.Invoke($"Scalr {why}; retry {attempt + 1} of {_options.MaxRetries} in {backoff.TotalSeconds:0.#}s.");
            _clock.Sleep(backoff, cancellation);
        }

        private static JsonElement Data(JsonDocument document)
        {
            using (document)
            {
                return document.RootElement.TryGetProperty("data", out var data) ? data.Clone() : default;
            }
        }

        /// <summary>The next page's path and query, or null on the last page.</summary>
        private string? NextPage(JsonElement root)
        {
            if (!root.TryGetProperty("pagination", out var pagination) || pagination.ValueKind != JsonValueKind.Object) return null;
            if (!pagination.TryGetProperty("next", out var next) || next.ValueKind != JsonValueKind.String) return null;
            var link = next.GetString();
            if (string.IsNullOrWhiteSpace(link)) return null;
            // Scalr gives a path (sometimes a full URL); only its path and query matter, on our host.
            var absolute = new Uri(new Uri(_root + "/"), link);
            return absolute.AbsolutePath + absolute.Query;
        }

        private static (string path, string query) Split(string pathAndQuery)
        {
            var q = pathAndQuery.IndexOf('?');
            return q < 0 ? (pathAndQuery, "") : (pathAndQuery.Substring(0, q), pathAndQuery.Substring(q + 1));
        }

        private static byte[] Serialize(object? body) => body == null ? Array.Empty<byte>() : JsonSerializer.SerializeToUtf8Bytes(body);

        private static TtmException Malformed(string route, string expected) =>
            new TtmException(TtmErrorCode.BackendError, $"Scalr's answer for {route} has no {expected}; is -Url the Scalr API server?", route);

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException != null) e = e.InnerException;
            return e;
        }
    }
}

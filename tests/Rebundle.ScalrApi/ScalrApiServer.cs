using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Rebundle.ScalrApi;

/// <summary>One request as the server saw it, with both bodies (the contract tests check them against Scalr's spec).</summary>
public sealed record LoggedRequest(string Method, string Path, string Query, int Status, string? ErrorCode, string RequestBody = "", string ResponseBody = "");

/// <summary>
/// The loopback Scalr: Kestrel on 127.0.0.1, every request's V1-HMAC-SHA256 signature checked
/// against the one test key (computed here independently of the client), Scalr's envelopes,
/// paged lists, fault injection and a request log.
/// </summary>
public sealed class ScalrApiServer : IAsyncDisposable, IDisposable
{
    private readonly ScalrApiOptions _options;
    private readonly ScalrRoutes _routes;
    private readonly List<LoggedRequest> _log = new();
    private readonly object _faultGate = new();
    private WebApplication? _app;
    private int _faultsLeft;
    private int _faultStatus = 503;
    private Func<string, string, bool>? _failWhen;
    private Func<string, string, bool>? _loseWhen;
    private int _answersToLose;
    private int _limit;
    private TimeSpan _limitWindow;
    private readonly Queue<DateTimeOffset> _recent = new();

    public ScalrApiServer(ScalrApiOptions options)
    {
        _options = options;
        World = new ScalrWorld(options);
        _routes = new ScalrRoutes(World, options);
    }

    public ScalrWorld World { get; }

    /// <summary>Answers held back until released (AnswerStalls.cs).</summary>
    public AnswerStalls Stalls { get; } = new();

    /// <summary>e.g. <c>http://127.0.0.1:43123</c>.</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1/");

    public IReadOnlyList<LoggedRequest> RequestLog
    {
        get { lock (_log) return _log.ToList(); }
    }

    public void ClearLog()
    {
        lock (_log) _log.Clear();
    }

    /// <summary>The next <paramref name="count"/> requests get <paramref name="status"/> with Scalr's error envelope.</summary>
    public void FailNext(int count, int status = 503)
    {
        lock (_faultGate)
        {
            _faultsLeft = count;
            _faultStatus = status;
        }
    }

    /// <summary>Every request the predicate picks gets a 500 InternalError until cleared with null.</summary>
    public void FailWhen(Func<string, string, bool>? predicate)
    {
        lock (_faultGate) _failWhen = predicate;
    }

    /// <summary>
    /// The next <paramref name="count"/> requests the predicate picks are carried out, then their
    /// answer is lost: the connection is dropped before a byte is sent, as a timeout would.
    /// </summary>
    public void LoseAnswers(int count, Func<string, string, bool> predicate)
    {
        lock (_faultGate)
        {
            _answersToLose = count;
            _loseWhen = predicate;
        }
    }

    /// <summary>
    /// Scalr's per-key rate limit: over <paramref name="requests"/> in <paramref name="window"/> (the
    /// fleet's clock) a request is refused with 403 LimitExceeded and not counted. 0 switches it off.
    /// </summary>
    public void LimitRequests(int requests, TimeSpan window)
    {
        lock (_faultGate)
        {
            _limit = requests;
            _limitWindow = window;
            _recent.Clear();
        }
    }

    public static ScalrApiServer Start(ScalrApiOptions options)
    {
        var server = new ScalrApiServer(options);
        server.StartAsync().GetAwaiter().GetResult();
        return server;
    }

    public async Task StartAsync()
    {
        if (_options.Ec2Endpoint != null)
            World.Ec2 = new Ec2Link(_options.Ec2Endpoint, _options.Region, _options.Ec2AccessKey, _options.Ec2SecretKey);
        if (_options.Seed == "runbook")
        {
            lock (World.Gate) World.SeedRunbook();
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, _options.Port));
        _app = builder.Build();
        _app.Run(Handle);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        Url = new Uri(address.Replace("[::]", "127.0.0.1").Replace("0.0.0.0", "127.0.0.1"));
    }

    public async ValueTask DisposeAsync()
    {
        if (_app != null) await _app.DisposeAsync();
        _app = null;
        World.Ec2?.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task Handle(HttpContext context)
    {
        var request = context.Request;
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (request.PathBase + request.Path + request.QueryString);
        var q = rawTarget.IndexOf('?');
        var path = q < 0 ? rawTarget : rawTarget[..q];
        var rawQuery = q < 0 ? "" : rawTarget[(q + 1)..];
        using var bodyReader = new StreamReader(request.Body, Encoding.UTF8);
        var body = await bodyReader.ReadToEndAsync();
        if (!path.StartsWith("/__test/", StringComparison.Ordinal) && !await Stalls.Hold(request.Method, path, context.RequestAborted)) return;

        var result = Control(path, rawQuery) ?? Fault(request.Method, path) ?? Authenticate(request, path, rawQuery, body) ?? Limited() ?? Route(request.Method, path, rawQuery, body);
        var answer = result.Body.ToJsonString();
        if (Lose(request.Method, path))
        {
            lock (_log) _log.Add(new LoggedRequest(request.Method, path, rawQuery, 0, "AnswerLost", body, answer));
            context.Abort();
            return;
        }
        lock (_log) _log.Add(new LoggedRequest(request.Method, path, rawQuery, result.Status, result.ErrorCode, body, answer));
        context.Response.StatusCode = result.Status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer);
    }

    /// <summary>
    /// Unsigned test controls for a server run as a process (Pester): <c>/__test/fail?count=N&amp;status=503</c>
    /// and <c>/__test/log</c>. Not part of Scalr; loopback only.
    /// </summary>
    private ApiResult? Control(string path, string rawQuery)
    {
        if (!path.StartsWith("/__test/", StringComparison.Ordinal)) return null;
        var query = ParseQuery(rawQuery).ToDictionary(p => p.Key, p => p.Value);
        switch (path)
        {
            case "/__test/fail":
                FailNext(int.Parse(query.GetValueOrDefault("count", "1")), int.Parse(query.GetValueOrDefault("status", "503")));
                return ApiResult.Data(new JsonObject { ["failing"] = _faultsLeft });
            case "/__test/stall": // ?method=POST&path=<regex>; /__test/release lets it go
                Stalls.Stall(query.GetValueOrDefault("method", "GET"), query.GetValueOrDefault("path", "$^"));
                return ApiResult.Data(new JsonObject { ["stalled"] = true });
            case "/__test/release":
                Stalls.Release();
                return ApiResult.Data(new JsonObject { ["abandoned"] = Stalls.Abandoned });
            case "/__test/limit":
                LimitRequests(int.Parse(query.GetValueOrDefault("requests", "0")), TimeSpan.FromSeconds(double.Parse(query.GetValueOrDefault("seconds", "1"), System.Globalization.CultureInfo.InvariantCulture)));
                return ApiResult.Data(new JsonObject { ["limit"] = _limit });
            case "/__test/lose":
                var method = query.GetValueOrDefault("method", "POST");
                LoseAnswers(int.Parse(query.GetValueOrDefault("count", "1")), (m, _) => m == method);
                return ApiResult.Data(new JsonObject { ["losing"] = _answersToLose });
            case "/__test/scaling": // what the scaling engine did
                lock (World.Gate)
                {
                    World.CatchUpScaling();
                    return ApiResult.Data(new JsonArray(World.ScalingEvents.Select(e => (JsonNode)new JsonObject
                    {
                        ["at"] = e.At.UtcDateTime.ToString("o"), ["farm"] = e.Farm, ["alias"] = e.Alias, ["action"] = e.Action, ["server"] = e.ServerId, ["reason"] = e.Reason,
                    }).ToArray()));
                }
            case "/__test/log":
                return ApiResult.Data(new JsonArray(RequestLog.Select(r => (JsonNode)new JsonObject
                {
                    ["method"] = r.Method, ["path"] = r.Path, ["query"] = r.Query, ["status"] = r.Status, ["error"] = r.ErrorCode,
                }).ToArray()));
            default:
                return ApiResult.Error(404, "EndpointNotFound", $"There is no test control {path}.");
        }
    }

    private bool Lose(string method, string path)
    {
        lock (_faultGate)
        {
            if (_answersToLose <= 0 || _loseWhen?.Invoke(method, path) != true) return false;
            _answersToLose--;
            return true;
        }
    }

    private ApiResult? Limited()
    {
        lock (_faultGate)
        {
            if (_limit <= 0) return null;
            var now = _options.Clock();
            while (_recent.Count > 0 && _recent.Peek() <= now - _limitWindow) _recent.Dequeue();
            if (_recent.Count >= _limit)
                return ApiResult.Error(403, "LimitExceeded",
                    "The maximum request rate permitted by the Scalr APIs has been exceeded for your account. For best results, use an increasing or variable sleep interval between requests.");
            _recent.Enqueue(now);
            return null;
        }
    }

    private ApiResult? Fault(string method, string path)
    {
        lock (_faultGate)
        {
            if (_failWhen?.Invoke(method, path) == true)
                return ApiResult.Error(500, "InternalError", "An internal error occurred (injected by the test).");
            if (_faultsLeft <= 0) return null;
            _faultsLeft--;
            return ApiResult.Error(_faultStatus, _faultStatus == 429 ? "TooManyRequests" : "ServiceUnavailable", "The service is temporarily unavailable. Try again later.");
        }
    }

    /// <summary>Scalr's check: the key is known, the date is recent, and the signature matches.</summary>
    private ApiResult? Authenticate(HttpRequest request, string path, string rawQuery, string body)
    {
        var keyId = request.Headers["X-Scalr-Key-Id"].ToString();
        var date = request.Headers["X-Scalr-Date"].ToString();
        var signature = request.Headers["X-Scalr-Signature"].ToString();
        if (keyId.Length == 0 || date.Length == 0 || signature.Length == 0)
            return ApiResult.Error(401, "BadAuthentication", "Request is not signed: X-Scalr-Key-Id, X-Scalr-Date and X-Scalr-Signature are required.");
        if (keyId != _options.KeyId)
            return ApiResult.Error(401, "BadAuthentication", $"Invalid API Key ID {keyId}.");
        if (!DateTimeOffset.TryParse(date, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var sent) ||
            (sent - DateTimeOffset.UtcNow).Duration() > _options.AllowedClockSkew)
            return ApiResult.Error(401, "BadAuthentication", "Request has expired or its X-Scalr-Date is invalid.");
        var parts = signature.Split(' ', 2);
        if (parts.Length != 2 || parts[0] != "V1-HMAC-SHA256")
            return ApiResult.Error(401, "BadAuthentication", "Unsupported signature version.");
        var expected = Sign(request.Method + "\n" + date + "\n" + path + "\n" + CanonicalQuery(rawQuery) + "\n" + body);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(parts[1])))
            return ApiResult.Error(401, "BadAuthentication", "Signature does not match.");
        return null;
    }

    private ApiResult Route(string method, string path, string rawQuery, string body)
    {
        const string prefix = "/api/v1beta0/user/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
            return ApiResult.Error(404, "EndpointNotFound", $"There is no endpoint {path}.");
        var rest = path[prefix.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length == 0 || rest[0] != _options.EnvironmentId)
            // What Scalr answers for an environment the key cannot see (not PermissionViolation).
            return ApiResult.Error(403, "ObjectNotFound", $"Environment {(rest.Length == 0 ? "(none)" : rest[0])} was not found or API key {_options.KeyId} has no access to it.");
        var query = ParseQuery(rawQuery);
        try
        {
            lock (World.Gate)
            {
                World.CatchUpScaling(); // what Scalr's scaling did since the last request
                return _routes.Handle(method, rest[1..], query, body, path);
            }
        }
        catch (System.Text.Json.JsonException e)
        {
            return ApiResult.Error(400, "InvalidStructure", "The request body is not valid JSON: " + e.Message);
        }
    }

    private string Sign(string stringToSign)
    {
        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(_options.Secret));
        return Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(stringToSign)));
    }

    /// <summary>Name=value pairs, each part RFC 3986 percent-encoded, sorted, joined with '&amp;'.</summary>
    internal static string CanonicalQuery(string rawQuery) =>
        string.Join("&", ParseQuery(rawQuery)
            .Select(p => (Uri.EscapeDataString(p.Key), Uri.EscapeDataString(p.Value)))
            .OrderBy(p => p.Item1, StringComparer.Ordinal).ThenBy(p => p.Item2, StringComparer.Ordinal)
            .Select(p => p.Item1 + "=" + p.Item2));

    internal static List<KeyValuePair<string, string>> ParseQuery(string rawQuery) =>
        rawQuery.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(part => part.Split('=', 2))
            .Select(kv => new KeyValuePair<string, string>(Unescape(kv[0]), kv.Length > 1 ? Unescape(kv[1]) : ""))
            .ToList();

    private static string Unescape(string text) => Uri.UnescapeDataString(text.Replace('+', ' '));
}

/// <summary>A status and a JSON body in Scalr's envelope.</summary>
public sealed record ApiResult(int Status, JsonNode Body, string? ErrorCode = null)
{
    public static ApiResult Error(int status, string code, string message) =>
        new(status, new JsonObject
        {
            ["errors"] = new JsonArray(new JsonObject { ["code"] = code, ["message"] = message }),
            ["meta"] = new JsonObject { ["requestId"] = Guid.NewGuid().ToString() },
        }, code);

    public static ApiResult Data(JsonNode data, int status = 200) =>
        new(status, new JsonObject
        {
            ["data"] = data,
            ["meta"] = new JsonObject { ["requestId"] = Guid.NewGuid().ToString() },
            ["warnings"] = new JsonArray(),
        });
}

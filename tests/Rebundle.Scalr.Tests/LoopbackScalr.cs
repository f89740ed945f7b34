using System;
using System.Linq;
using System.Security;
using Rebundle.Runbook;
using Rebundle.ScalrApi;

namespace Rebundle.Scalr.Tests;

/// <summary>
/// One loopback Scalr per test, seeded with the runbook's fleet, sharing a manual clock with
/// the backend so boots, terminations, waits and retry backoffs take no real time.
/// </summary>
public sealed class LoopbackScalr : IDisposable
{
    public const string KeyId = "APIKEY-TEST-0001";
    public const string Secret = "s3cr3t-Test/Key+Value=";
    public const string EnvId = "5";

    public LoopbackScalr(int pageSize = 3, string seed = "runbook")
    {
        Clock = new ManualClock(new DateTimeOffset(2026, 4, 1, 12, 0, 0, TimeSpan.Zero));
        Server = ScalrApiServer.Start(new ScalrApiOptions
        {
            KeyId = KeyId,
            Secret = Secret,
            EnvironmentId = EnvId,
            PageSize = pageSize,
            Seed = seed,
            BootDelay = TimeSpan.FromSeconds(60),
            TerminateDelay = TimeSpan.FromSeconds(20),
            Clock = () => Clock.UtcNow,
        });
    }

    public ManualClock Clock { get; }

    public ScalrApiServer Server { get; }

    public ScalrConnectionOptions Options(string? secret = null, string? envId = null) => new()
    {
        Url = Server.Url,
        KeyId = KeyId,
        Secret = SecureText(secret ?? Secret),
        EnvironmentId = envId ?? EnvId,
        PollInterval = TimeSpan.FromSeconds(5),
    };

    public ScalrBackend Connect() => ScalrBackend.Connect(Options(), Clock);

    public ScalrClient Client(string? secret = null) => new(Options(secret), Clock);

    /// <summary>Requests whose path ends with <paramref name="route"/> (after the environment prefix).</summary>
    public int Count(string method, string route) =>
        Server.RequestLog.Count(r => r.Method == method && r.Path == "/api/v1beta0/user/" + EnvId + "/" + route);

    public static SecureString SecureText(string text)
    {
        var s = new SecureString();
        foreach (var c in text) s.AppendChar(c);
        s.MakeReadOnly();
        return s;
    }

    public void Dispose() => Server.Dispose();
}

using System;
using System.Linq;
using System.Security;
using Rebundle.Ec2Endpoint;
using Rebundle.Runbook;
using Rebundle.ScalrApi;

namespace Rebundle.Scalr.Tests;

/// <summary>
/// One loopback Scalr per test, seeded with the runbook's fleet, sharing a manual clock with
/// the backend so boots, terminations, waits and retry backoffs take no real time. With
/// <c>withEc2</c>, a loopback EC2 endpoint (seeded with the same fleet) owns the servers'
/// instances and makes the snapshots.
/// </summary>
public sealed class LoopbackScalr : IDisposable
{
    public const string KeyId = "APIKEY-TEST-0001";
    public const string Secret = "s3cr3t-Test/Key+Value=";
    public const string EnvId = "5";

    public LoopbackScalr(int pageSize = 3, string seed = "runbook", bool withEc2 = false)
    {
        Clock = new ManualClock(new DateTimeOffset(2026, 4, 1, 12, 0, 0, TimeSpan.Zero));
        if (withEc2)
        {
            var settings = new Ec2Settings
            {
                Region = TestAwsEnvironment.Region,
                BootTime = TimeSpan.FromSeconds(20),
                ImageTime = TimeSpan.FromSeconds(60),
                ShutdownTime = TimeSpan.FromSeconds(5),
                Now = () => Clock.UtcNow,
            };
            settings.UseKey(TestAwsEnvironment.AccessKey, TestAwsEnvironment.SecretKey);
            Ec2 = new Ec2Fleet(settings);
            RunbookSeed.Apply(Ec2);
            Ec2Endpoint = Rebundle.Ec2Endpoint.Ec2Endpoint.Start(Ec2);
        }
        Server = ScalrApiServer.Start(new ScalrApiOptions
        {
            Ec2Endpoint = Ec2Endpoint?.Url.ToString(),
            Ec2AccessKey = TestAwsEnvironment.AccessKey,
            Ec2SecretKey = TestAwsEnvironment.SecretKey,
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

    /// <summary>The EC2 side (null unless asked for).</summary>
    public Ec2Fleet? Ec2 { get; }

    public Rebundle.Ec2Endpoint.Ec2Endpoint? Ec2Endpoint { get; }

    public ScalrConnectionOptions Options(string? secret = null, string? envId = null) => new()
    {
        Url = Server.Url,
        KeyId = KeyId,
        Secret = SecureText(secret ?? Secret),
        EnvironmentId = envId ?? EnvId,
        PollInterval = TimeSpan.FromSeconds(5),
        Ec2EndpointUrl = Ec2Endpoint?.Url.ToString(),
        AwsRegion = Ec2Endpoint == null ? null : TestAwsEnvironment.Region,
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

    public void Dispose()
    {
        Server.Dispose();
        Ec2Endpoint?.Dispose();
    }
}

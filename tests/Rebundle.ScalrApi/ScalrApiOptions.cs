using System;

namespace Rebundle.ScalrApi;

/// <summary>How the loopback Scalr behaves: the one key it accepts, its environment, paging and timing.</summary>
public sealed class ScalrApiOptions
{
    public int Port { get; set; }

    public string KeyId { get; set; } = "APIKEY0000000001";

    public string Secret { get; set; } = "test-secret";

    public string EnvironmentId { get; set; } = "5";

    /// <summary>"runbook" (the runbook's farms and roles) or "empty".</summary>
    public string Seed { get; set; } = "runbook";

    /// <summary>Small on purpose, so every list really spans pages.</summary>
    public int PageSize { get; set; } = 3;

    /// <summary>From launch to running.</summary>
    public TimeSpan BootDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>From terminate to terminated.</summary>
    public TimeSpan TerminateDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often Scalr's scaling engine runs (keeps each farm role between its min and max
    /// instances); about a minute on a real Scalr. Zero switches it off.
    /// </summary>
    public TimeSpan ScalingInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How far the X-Scalr-Date may be from the real time.</summary>
    public TimeSpan AllowedClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    public string Region { get; set; } = "us-east-1";

    /// <summary>An EC2 Query-API endpoint that owns the servers' instances; null makes up instance ids.</summary>
    public string? Ec2Endpoint { get; set; }

    /// <summary>The access key the EC2 endpoint accepts.</summary>
    public string Ec2AccessKey { get; set; } = Ec2Link.DefaultAccessKey;

    public string Ec2SecretKey { get; set; } = Ec2Link.DefaultSecretKey;

    /// <summary>A process left running stops by itself after this long.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The fleet's time (server states are computed from it); tests share theirs.</summary>
    public Func<DateTimeOffset> Clock { get; set; } = () => DateTimeOffset.UtcNow;
}

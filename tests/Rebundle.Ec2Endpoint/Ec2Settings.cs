using System;
using System.Collections.Generic;

namespace Rebundle.Ec2Endpoint;

/// <summary>How the endpoint behaves; tests may change these while it runs.</summary>
public sealed class Ec2Settings
{
    /// <summary>The tests' access key and its secret: what the test environments put in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.</summary>
    public const string TestAccessKey = "AKIDTTMTESTKEY000001";

    public const string TestSecretKey = "ttm-loopback-secret-000001";

    /// <summary>The access keys the endpoint knows, each with its secret: SigV4 signatures are verified with it.</summary>
    public Dictionary<string, string> Secrets { get; } = new(StringComparer.Ordinal) { [TestAccessKey] = TestSecretKey };

    /// <summary>Session tokens of the temporary keys STS issued: a request signed with such a key must carry its token.</summary>
    public Dictionary<string, string> SessionTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>Web identity tokens AssumeRoleWithWebIdentity accepts (the identity provider's, e.g. an EKS service account's).</summary>
    public HashSet<string> WebIdentityTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>SSO access tokens (as `aws sso login` caches them) GetRoleCredentials accepts.</summary>
    public HashSet<string> SsoAccessTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>Replaces the known keys with this one key and its secret.</summary>
    public void UseKey(string accessKey, string secretKey)
    {
        Secrets.Clear();
        Secrets[accessKey] = secretKey;
    }

    /// <summary>
    /// The time signatures are checked against (15 minutes either way). It is the wall clock,
    /// as the SDK signs with the machine's clock, even when <see cref="Now"/> is a test's manual clock.
    /// </summary>
    public Func<DateTimeOffset> SignatureClock { get; set; } = () => DateTimeOffset.UtcNow;

    /// <summary>The region a signature's credential scope must name (SignatureDoesNotMatch otherwise).</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>How long a new instance stays pending.</summary>
    public TimeSpan BootTime { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a new image stays pending.</summary>
    public TimeSpan ImageTime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The last part of <see cref="ImageTime"/> a new image spends in EC2's "transient" state
    /// (documented among the image states: still being made, not failed); none by default.
    /// </summary>
    public TimeSpan ImageTransientTime { get; set; } = TimeSpan.Zero;

    /// <summary>How long a terminated instance stays shutting-down.</summary>
    public TimeSpan ShutdownTime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long CreateImage's reboot (without NoReboot) keeps an instance down, before its status checks run again.</summary>
    public TimeSpan RebootTime { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>How long a running instance's status checks stay "initializing" before they pass.</summary>
    public TimeSpan StatusCheckTime { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How long after an instance starts running DescribeInstanceStatus leaves it out, as EC2
    /// reports checks late. Zero (the default) reports them at once.
    /// </summary>
    public TimeSpan StatusReportDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How long the checks read "insufficient-data" after "initializing" and before "ok", as EC2
    /// sometimes reports them. Zero (the default) goes straight to "ok".
    /// </summary>
    public TimeSpan InsufficientDataTime { get; set; } = TimeSpan.Zero;

    /// <summary>False to answer DescribeInstanceStatus with InvalidAction, like an endpoint that does not report checks.</summary>
    public bool ReportsStatusChecks { get; set; } = true;

    /// <summary>The most items one page holds, whatever MaxResults asks (EC2 may return fewer than asked too).</summary>
    public int MaxPageSize { get; set; } = 1000;

    /// <summary>The most filter values one call may carry, all filters together (EC2: 200, else FilterLimitExceeded).</summary>
    public int MaxFilterValues { get; set; } = 200;

    /// <summary>
    /// How long a new instance, image, launch template or template version stays invisible to
    /// Describe* calls, as EC2's eventual consistency (InvalidInstanceID.NotFound and friends
    /// meanwhile when asked for by id). Zero (the default) shows them at once.
    /// </summary>
    public TimeSpan VisibilityDelay { get; set; } = TimeSpan.Zero;

    /// <summary>The endpoint's clock; in-process tests share the backend's manual clock through it.</summary>
    public Func<DateTimeOffset> Now { get; set; } = () => DateTimeOffset.UtcNow;
}

/// <summary>Failures to inject. Counters count down as requests use them.</summary>
public sealed class Ec2Faults
{
    /// <summary>The next N requests (of <see cref="ThrottleAction"/>, or any) are refused with 503 RequestLimitExceeded.</summary>
    public int ThrottleNext { get; set; }

    public string? ThrottleAction { get; set; }

    /// <summary>
    /// The next N requests (of <see cref="LoseAction"/>, or any) are carried out but answered
    /// with 500 InternalError, as when a response is lost: the client retries something done.
    /// </summary>
    public int LoseResponses { get; set; }

    public string? LoseAction { get; set; }

    /// <summary>The next N launched instances stay pending for ever.</summary>
    public int StallLaunches { get; set; }

    /// <summary>The next N launched instances end terminated with Server.InternalError instead of running.</summary>
    public int FailLaunches { get; set; }

    /// <summary>The next N launched instances run but fail their status checks (impaired).</summary>
    public int ImpairLaunches { get; set; }

    /// <summary>
    /// Actions the caller's IAM policy does not allow: refused with 403 UnauthorizedOperation,
    /// DryRun included (EC2 checks the permission first, then answers DryRunOperation when allowed).
    /// </summary>
    public HashSet<string> DeniedActions { get; } = new(StringComparer.Ordinal);

    /// <summary>Images whose name matches one of these patterns (* and ? wildcards) end failed.</summary>
    public List<string> FailingImageNames { get; } = new();
}

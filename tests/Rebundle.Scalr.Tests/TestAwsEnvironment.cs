using System;
using System.Runtime.CompilerServices;

namespace Rebundle.Scalr.Tests;

/// <summary>
/// The AWS SDK's standard credential chain for the backend's CreateImage calls: environment
/// credentials for the loopback EC2 endpoint's test key, set before any test runs. The
/// instance metadata service is switched off so the SDK never looks off this machine.
/// </summary>
internal static class TestAwsEnvironment
{
    public const string AccessKey = "AKIDTTMTESTKEY000001";

    /// <summary>The secret the loopback EC2 endpoint verifies signatures with (LoopbackScalr tells it).</summary>
    public const string SecretKey = "ttm-loopback-secret-000001";
    public const string Region = "us-east-1";

    [ModuleInitializer]
    internal static void Initialize()
    {
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", SecretKey);
        Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);
        Environment.SetEnvironmentVariable("AWS_PROFILE", null);
        Environment.SetEnvironmentVariable("AWS_REGION", Region);
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
    }
}

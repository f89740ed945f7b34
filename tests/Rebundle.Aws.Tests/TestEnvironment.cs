using System;
using System.IO;
using System.Runtime.CompilerServices;

namespace Rebundle.Aws.Tests;

/// <summary>
/// Sets up the AWS SDK's standard credential chain for every test, before any test runs:
/// environment credentials for the endpoint's test key, and a private shared-credentials file
/// with one good and one wrong profile. The instance metadata service is switched off so the
/// SDK never looks for an address off this machine.
/// </summary>
internal static class TestEnvironment
{
    public const string AccessKey = "AKIDTTMTESTKEY000001";

    /// <summary>The secret of <see cref="AccessKey"/>; AwsFleet gives it to the endpoint, which verifies every signature with it.</summary>
    public const string SecretKey = "ttm-loopback-secret-000001";
    public const string GoodProfile = "ttm-test";
    public const string WrongProfile = "ttm-wrong";

    /// <summary>The right access key with a wrong secret: its signatures do not match.</summary>
    public const string WrongSecretProfile = "ttm-wrong-secret";
    public const string Region = "us-east-1";

    /// <summary>The region in the good profile's config, different from AWS_REGION to show which one wins.</summary>
    public const string ProfileRegion = "eu-west-1";

    [ModuleInitializer]
    internal static void Initialize()
    {
        var folder = Path.Combine(Path.GetTempPath(), "rebundle-aws-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(folder);
        var credentials = Path.Combine(folder, "credentials");
        File.WriteAllText(credentials,
            $"[{GoodProfile}]\naws_access_key_id = {AccessKey}\naws_secret_access_key = {SecretKey}\n\n" +
            $"[{WrongProfile}]\naws_access_key_id = AKIDSOMEONEELSE00001\naws_secret_access_key = someone-elses-secret\n\n" +
            $"[{WrongSecretProfile}]\naws_access_key_id = {AccessKey}\naws_secret_access_key = not-the-secret-000001\n");
        var config = Path.Combine(folder, "config");
        File.WriteAllText(config, $"[profile {GoodProfile}]\nregion = {ProfileRegion}\n");
        Environment.SetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE", credentials);
        Environment.SetEnvironmentVariable("AWS_CONFIG_FILE", config);
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", SecretKey);
        Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);
        Environment.SetEnvironmentVariable("AWS_PROFILE", null);
        Environment.SetEnvironmentVariable("AWS_REGION", Region);
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
    }
}

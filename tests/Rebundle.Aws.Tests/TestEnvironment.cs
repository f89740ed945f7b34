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
    public const string GoodProfile = "ttm-test";
    public const string WrongProfile = "ttm-wrong";
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
            $"[{GoodProfile}]\naws_access_key_id = {AccessKey}\naws_secret_access_key = test-secret-not-used\n\n" +
            $"[{WrongProfile}]\naws_access_key_id = AKIDSOMEONEELSE00001\naws_secret_access_key = test-secret-not-used\n");
        var config = Path.Combine(folder, "config");
        File.WriteAllText(config, $"[profile {GoodProfile}]\nregion = {ProfileRegion}\n");
        Environment.SetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE", credentials);
        Environment.SetEnvironmentVariable("AWS_CONFIG_FILE", config);
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "test-secret-not-used");
        Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);
        Environment.SetEnvironmentVariable("AWS_PROFILE", null);
        Environment.SetEnvironmentVariable("AWS_REGION", Region);
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
    }
}

using System;
using System.IO;

namespace Rebundle.TestKit;

/// <summary>
/// The AWS SDK's standard credential chain for tests that reach the loopback EC2 endpoint
/// (the AWS backend's, and the Scalr backend's CreateImage calls): environment credentials for
/// the endpoint's test key, and a private shared-credentials file with one good and one wrong
/// profile. The instance metadata service is switched off so the SDK never looks for an address
/// off this machine. Each such test project calls <see cref="Initialize"/> from a module
/// initializer of its own, before any test runs (this assembly's own would run only once one of
/// its types is touched, and the constants below are compiled into their callers).
/// </summary>
public static class TestAwsEnvironment
{
    public const string AccessKey = "AKIDTTMTESTKEY000001";

    /// <summary>The secret of <see cref="AccessKey"/>; AwsFleet and LoopbackScalr give it to the endpoint, which verifies every signature with it.</summary>
    public const string SecretKey = "ttm-loopback-secret-000001";
    public const string GoodProfile = "ttm-test";
    public const string WrongProfile = "ttm-wrong";

    /// <summary>The right access key with a wrong secret: its signatures do not match.</summary>
    public const string WrongSecretProfile = "ttm-wrong-secret";
    public const string Region = "us-east-1";

    /// <summary>A profile that assumes <see cref="RoleArn"/> with the good profile's keys (role_arn + source_profile).</summary>
    public const string RoleProfile = "ttm-role";
    public const string RoleArn = "arn:aws:iam::123456789012:role/rebundle-operator";

    /// <summary>A profile whose keys come from a program (credential_process), printing <see cref="ProcessAccessKey"/>.</summary>
    public const string ProcessProfile = "ttm-process";
    public const string ProcessAccessKey = "AKIDTTMPROCESS000001";
    public const string ProcessSecretKey = "ttm-process-secret-000001";

    /// <summary>An SSO profile (sso_session), usable once its token is in the SSO cache as `aws sso login` leaves it.</summary>
    public const string SsoProfile = "ttm-sso";
    public const string SsoSession = "ttm";

    /// <summary>The region in the good profile's config, different from AWS_REGION to show which one wins.</summary>
    public const string ProfileRegion = "eu-west-1";

    /// <summary>Sets the environment and writes the profiles; once per test process, before any test runs.</summary>
    public static void Initialize()
    {
        var folder = Path.Combine(Path.GetTempPath(), "rebundle-aws-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(folder);
        var credentials = Path.Combine(folder, "credentials");
        File.WriteAllText(credentials,
            $"[{GoodProfile}]\naws_access_key_id = {AccessKey}\naws_secret_access_key = {SecretKey}\n\n" +
            $"[{WrongProfile}]\naws_access_key_id = AKIDSOMEONEELSE00001\naws_secret_access_key = someone-elses-secret\n\n" +
            $"[{WrongSecretProfile}]\naws_access_key_id = {AccessKey}\naws_secret_access_key = not-the-secret-000001\n");
        var config = Path.Combine(folder, "config");
        var process = Path.Combine(folder, "credential-process.sh");
        File.WriteAllText(process, $"#!/bin/sh\necho '{{\"Version\": 1, \"AccessKeyId\": \"{ProcessAccessKey}\", \"SecretAccessKey\": \"{ProcessSecretKey}\"}}'\n");
        File.WriteAllText(config,
            $"[profile {GoodProfile}]\nregion = {ProfileRegion}\n\n" +
            $"[profile {RoleProfile}]\nrole_arn = {RoleArn}\nsource_profile = {GoodProfile}\nrole_session_name = rebundle-test\nregion = {Region}\n\n" +
            $"[profile {ProcessProfile}]\ncredential_process = /bin/sh {process}\nregion = {Region}\n\n" +
            $"[profile {SsoProfile}]\nsso_session = {SsoSession}\nsso_account_id = 123456789012\nsso_role_name = RebundleOperator\nregion = {Region}\n\n" +
            $"[sso-session {SsoSession}]\nsso_start_url = https://ttm.awsapps.com/start\nsso_region = {Region}\nsso_registration_scopes = sso:account:access\n");
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

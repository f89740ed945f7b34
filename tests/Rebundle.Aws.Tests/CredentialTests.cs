using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Rebundle.Backends;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>Tests that change process-wide environment variables: they run alone, after the others.</summary>
[CollectionDefinition(nameof(EnvironmentChanging), DisableParallelization = true)]
public sealed class EnvironmentChanging { }

/// <summary>
/// Credentials beyond plain keys, through the SDK's own providers (AWSSDK.SecurityToken loaded
/// at run time) against the endpoint's STS: every EC2 call must be signed with the temporary
/// keys and session token the endpoint issued.
/// </summary>
[Collection(nameof(EnvironmentChanging))]
public class CredentialTests
{
    [Fact]
    public void A_role_arn_and_source_profile_profile_assumes_the_role_and_signs_EC2_calls_with_its_keys()
    {
        using var sts = new StsAtEndpoint();
        using var fleet = new AwsFleet(options: new AwsConnectionOptions { ProfileName = TestAwsEnvironment.RoleProfile }, beforeConnect: sts.PointAt);

        Assert.Equal(3, fleet.Backend.GetFarms().Count);

        var issued = Assert.Single(fleet.Ec2.Issued);
        Assert.Equal(("AssumeRole", TestAwsEnvironment.RoleArn, "rebundle-test"), (issued.Action, issued.RoleArn, issued.SessionName));
        Assert.All(fleet.Ec2.Requests.Where(r => r.Action.StartsWith("Describe", StringComparison.Ordinal)), r => Assert.Equal(issued.AccessKey, r.AccessKey));
    }

    [Fact]
    public void A_web_identity_token_file_and_role_arn_assume_the_role_without_any_keys()
    {
        using var sts = new StsAtEndpoint();
        var tokenFile = Path.Combine(Path.GetTempPath(), "rebundle-web-identity-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(tokenFile, "ttm-oidc-token-0001");
        using var env = new EnvironmentScope(new()
        {
            ["AWS_ACCESS_KEY_ID"] = null, ["AWS_SECRET_ACCESS_KEY"] = null,
            ["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile, ["AWS_ROLE_ARN"] = TestAwsEnvironment.RoleArn, ["AWS_ROLE_SESSION_NAME"] = "ci-job-7",
        });
        using var fleet = new AwsFleet(configure: s => s.WebIdentityTokens.Add("ttm-oidc-token-0001"), beforeConnect: sts.PointAt);

        Assert.Equal(3, fleet.Backend.GetFarms().Count);

        var issued = Assert.Single(fleet.Ec2.Issued);
        Assert.Equal(("AssumeRoleWithWebIdentity", TestAwsEnvironment.RoleArn, "ci-job-7"), (issued.Action, issued.RoleArn, issued.SessionName));
        Assert.All(fleet.Ec2.Requests.Where(r => r.Action.StartsWith("Describe", StringComparison.Ordinal)), r => Assert.Equal(issued.AccessKey, r.AccessKey));
        File.Delete(tokenFile);
    }

    [Fact]
    public void A_credential_process_profile_signs_with_the_keys_its_program_prints()
    {
        using var fleet = new AwsFleet(
            configure: s => s.Secrets[TestAwsEnvironment.ProcessAccessKey] = TestAwsEnvironment.ProcessSecretKey,
            options: new AwsConnectionOptions { ProfileName = TestAwsEnvironment.ProcessProfile });

        Assert.Equal(3, fleet.Backend.GetFarms().Count);

        Assert.All(fleet.Ec2.Requests, r => Assert.Equal(TestAwsEnvironment.ProcessAccessKey, r.AccessKey));
    }

    [Fact]
    public void Issued_keys_without_their_session_token_are_refused()
    {
        using var sts = new StsAtEndpoint();
        using var fleet = new AwsFleet(options: new AwsConnectionOptions { ProfileName = TestAwsEnvironment.RoleProfile }, beforeConnect: sts.PointAt);
        var issued = fleet.Ec2.Issued.Single();
        using var env = new EnvironmentScope(new() { ["AWS_ACCESS_KEY_ID"] = issued.AccessKey, ["AWS_SECRET_ACCESS_KEY"] = issued.SecretKey });

        var error = Assert.Throws<Errors.TtmException>(() => AwsBackend.Connect(new AwsConnectionOptions { EndpointUrl = fleet.Endpoint.Url.ToString() }, fleet.Clock).Dispose());

        Assert.Equal(Errors.TtmErrorCode.AccessDenied, error.Code);
        Assert.Equal("AuthFailure", error.BackendCode);
    }

    [Fact]
    public void An_SSO_profile_with_a_cached_login_token_gets_role_credentials_from_the_portal()
    {
        var home = Path.Combine(Path.GetTempPath(), "rebundle-sso-home-" + Guid.NewGuid().ToString("N"));
        var cache = Path.Combine(home, ".aws", "sso", "cache");
        Directory.CreateDirectory(cache);
        // `aws sso login --sso-session ttm` caches the token under the SHA-1 of the session's name.
        var file = Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(TestAwsEnvironment.SsoSession))).ToLowerInvariant() + ".json";
        File.WriteAllText(Path.Combine(cache, file),
            $"{{\"startUrl\": \"https://ttm.awsapps.com/start\", \"region\": \"us-east-1\", \"accessToken\": \"ttm-sso-access-token\", \"expiresAt\": \"{DateTime.UtcNow.AddHours(1):yyyy-MM-ddTHH:mm:ssZ}\"}}");
        using var env = new EnvironmentScope(new() { ["HOME"] = home });
        EnvironmentScope? portal = null;
        try
        {
            using var fleet = new AwsFleet(configure: s => s.SsoAccessTokens.Add("ttm-sso-access-token"),
                options: new AwsConnectionOptions { ProfileName = TestAwsEnvironment.SsoProfile },
                beforeConnect: url => portal = new EnvironmentScope(new() { ["AWS_ENDPOINT_URL_SSO"] = url.ToString() }));

            Assert.Equal(3, fleet.Backend.GetFarms().Count);

            var issued = Assert.Single(fleet.Ec2.Issued);
            Assert.Equal("arn:aws:iam::123456789012:role/RebundleOperator", issued.RoleArn);
            Assert.All(fleet.Ec2.Requests.Where(r => r.Action.StartsWith("Describe", StringComparison.Ordinal)), r => Assert.Equal(issued.AccessKey, r.AccessKey));
        }
        finally
        {
            portal?.Dispose();
            Directory.Delete(home, recursive: true);
        }
    }

    /// <summary>Sends the SDK's STS calls to the test's endpoint (AWS_ENDPOINT_URL_STS), for the test's lifetime.</summary>
    private sealed class StsAtEndpoint : IDisposable
    {
        private EnvironmentScope? _scope;

        public void PointAt(Uri endpoint) => _scope = new EnvironmentScope(new() { ["AWS_ENDPOINT_URL_STS"] = endpoint.ToString() });

        public void Dispose() => _scope?.Dispose();
    }
}

/// <summary>Sets environment variables (null removes one) and puts the old values back on Dispose.</summary>
public sealed class EnvironmentScope : IDisposable
{
    private readonly Dictionary<string, string?> _saved = new();

    public EnvironmentScope(Dictionary<string, string?> values)
    {
        foreach (var (name, value) in values)
        {
            _saved[name] = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved) Environment.SetEnvironmentVariable(name, value);
    }
}

using Rebundle.Backends;
using System;
using System.Collections.Generic;
using System.Linq;
using Rebundle.Errors;

namespace Rebundle.Scalr.Tests;

public class ConnectTests
{
    [Fact]
    public void Connect_checks_the_key_with_one_cheap_request()
    {
        using var scalr = new LoopbackScalr();
        using var backend = scalr.Connect();
        Assert.Equal(BackendKind.Scalr, backend.Kind);
        Assert.Contains(scalr.Server.Url.Authority, backend.Location);
        Assert.Contains("environment 5", backend.Location);
        var request = Assert.Single(scalr.Server.RequestLog);
        Assert.Equal("/api/v1beta0/user/5/farms/", request.Path);
        Assert.Equal("maxResults=1", request.Query);
    }

    [Fact]
    public void A_wrong_secret_fails_at_connect_as_access_denied_without_the_secret_anywhere()
    {
        using var scalr = new LoopbackScalr();
        const string wrong = "Wr0ng-S3cret-Value";
        var e = Assert.Throws<TtmException>(() => ScalrBackend.Connect(scalr.Options(secret: wrong), scalr.Clock));
        Assert.Equal(TtmErrorCode.AccessDenied, e.Code);
        Assert.Equal("BadAuthentication", e.BackendCode);
        Assert.Contains("-Secret", e.Message);
        Assert.Contains(LoopbackScalr.KeyId, e.Message);
        Assert.DoesNotContain(wrong, e.ToString());
        Assert.DoesNotContain(LoopbackScalr.Secret, e.ToString());
    }

    [Theory]
    [InlineData("Url")]
    [InlineData("SCALR_URL")]
    [InlineData("Ec2EndpointUrl")]
    public void A_url_with_credentials_is_refused_without_echoing_the_password(string where)
    {
        using var scalr = new LoopbackScalr();
        const string password = "Url-Pa55word-9";
        var options = scalr.Options();
        var withPassword = new UriBuilder(scalr.Server.Url) { UserName = "ops", Password = password }.Uri;
        switch (where)
        {
            case "Url": options.Url = withPassword; break;
            case "SCALR_URL":
                options.Url = null;
                options.WithEnvironmentDefaults(name => name == ScalrConnectionOptions.UrlVariable ? withPassword.ToString() : null);
                break;
            case "Ec2EndpointUrl":
                options.Ec2EndpointUrl = new UriBuilder(options.Ec2EndpointUrl ?? "http://127.0.0.1:1/") { UserName = "ops", Password = password }.Uri.ToString();
                break;
        }
        Assert.Contains(password, where == "Ec2EndpointUrl" ? options.Ec2EndpointUrl : options.Url!.ToString()); // the test sets what it means to

        var e = Assert.Throws<TtmException>(() => ScalrBackend.Connect(options, scalr.Clock));

        Assert.Equal(TtmErrorCode.InvalidArgument, e.Code);
        Assert.Contains("user name or password", e.Message);
        Assert.DoesNotContain(password, e.ToString());
        Assert.DoesNotContain(password, e.Target?.ToString() ?? "");
        Assert.DoesNotContain(password, options.ToString());
        Assert.Empty(scalr.Server.RequestLog); // refused before any request
    }

    [Fact]
    public void A_key_without_access_to_the_environment_is_named_at_connect()
    {
        using var scalr = new LoopbackScalr();
        var e = Assert.Throws<TtmException>(() => ScalrBackend.Connect(scalr.Options(envId: "6"), scalr.Clock));
        Assert.Equal(TtmErrorCode.AccessDenied, e.Code);
        Assert.Equal("ObjectNotFound", e.BackendCode); // Scalr says so for an environment the key cannot see
        Assert.Contains("-EnvironmentId", e.Message);
    }

    [Fact]
    public void The_secret_never_shows_in_options_client_log_or_errors()
    {
        using var scalr = new LoopbackScalr();
        var options = scalr.Options();
        Assert.DoesNotContain(LoopbackScalr.Secret, options.ToString());
        using var backend = ScalrBackend.Connect(options, scalr.Clock);
        var lines = new List<string>();
        backend.Client.Log = lines.Add;
        scalr.Server.FailNext(1);
        backend.GetFarms();
        var e = Assert.Throws<TtmException>(() => backend.Client.Get("servers/nope/"));
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.DoesNotContain(LoopbackScalr.Secret, l));
        Assert.DoesNotContain(LoopbackScalr.Secret, e.ToString());
    }

    [Fact]
    public void Options_come_from_scalr_environment_variables_when_not_given()
    {
        var env = new Dictionary<string, string>
        {
            ["SCALR_URL"] = "https://scalr.example.test/",
            ["SCALR_KEY_ID"] = "KEY1",
            ["SCALR_SECRET"] = "from-env",
            ["SCALR_ENV_ID"] = "12",
        };
        var options = new ScalrConnectionOptions { KeyId = "GIVEN" }.WithEnvironmentDefaults(n => env.TryGetValue(n, out var v) ? v : null);
        Assert.Equal(new Uri("https://scalr.example.test/"), options.Url);
        Assert.Equal("GIVEN", options.KeyId); // what was given wins
        Assert.Equal("12", options.EnvironmentId);
        Assert.Equal(8, options.Secret!.Length);
        options.Validate();
    }

    [Fact]
    public void Missing_settings_are_named_before_anything_is_sent()
    {
        var e = Assert.Throws<TtmException>(() => ScalrBackend.Connect(new ScalrConnectionOptions { KeyId = "K" }.WithEnvironmentDefaults(_ => null)));
        Assert.Equal(TtmErrorCode.InvalidArgument, e.Code);
        Assert.Contains("-Url (or SCALR_URL)", e.Message);
        Assert.Contains("-Secret (or SCALR_SECRET)", e.Message);
        Assert.Contains("-EnvironmentId (or SCALR_ENV_ID)", e.Message);
        Assert.DoesNotContain("-KeyId", e.Message);
    }
}

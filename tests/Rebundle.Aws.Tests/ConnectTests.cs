using Rebundle.Backends;
using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using Rebundle.Errors;
using Xunit;

namespace Rebundle.Aws.Tests;

public class ConnectTests
{
    [Fact]
    public void Connect_with_environment_credentials_proves_the_connection_with_one_signed_read()
    {
        using var fleet = new AwsFleet();
        fleet.Backend.Dispose();
        fleet.Ec2.ClearRequests();

        using var backend = AwsBackend.Connect(new AwsConnectionOptions { EndpointUrl = fleet.Endpoint.Url.ToString() });

        Assert.Equal(BackendKind.Aws, backend.Kind);
        Assert.Equal(TimeSpan.FromSeconds(5), backend.PollInterval);
        Assert.Same(Rebundle.Runbook.SystemClock.Instance, backend.Clock);
        Assert.Contains(fleet.Endpoint.Url.ToString(), backend.Location);
        Assert.Contains("us-east-1", backend.Location);
        var probe = Assert.Single(fleet.Ec2.Requests);
        Assert.Equal("DescribeLaunchTemplates", probe.Action);
        Assert.Equal(200, probe.Status);
    }

    [Fact]
    public void Connect_with_a_profile_uses_that_profiles_key_and_region()
    {
        // The endpoint serves the profile's region: it refuses a signature scoped to any other.
        using var fleet = new AwsFleet(configure: s => s.Region = TestAwsEnvironment.ProfileRegion, options: new AwsConnectionOptions { ProfileName = TestAwsEnvironment.GoodProfile });

        Assert.Equal(3, fleet.Backend.GetFarms().Count);
        Assert.StartsWith(TestAwsEnvironment.ProfileRegion + " at ", fleet.Backend.Location);
        Assert.Equal(TestAwsEnvironment.ProfileRegion, fleet.Backend.GetServers(Rebundle.Backends.ServerQuery.All).First().Region);
    }

    [Fact]
    public void An_explicit_region_wins_over_the_profiles()
    {
        using var fleet = new AwsFleet(configure: s => s.Region = "ap-southeast-2", options: new AwsConnectionOptions { ProfileName = TestAwsEnvironment.GoodProfile, Region = "ap-southeast-2" });

        Assert.StartsWith("ap-southeast-2 at ", fleet.Backend.Location);
        Assert.Equal(3, fleet.Backend.GetFarms().Count); // signed for ap-southeast-2, or the endpoint would refuse it
    }

    [Fact]
    public void Connect_with_credentials_the_endpoint_rejects_fails_with_AccessDenied()
    {
        using var fleet = new AwsFleet();

        var error = Assert.Throws<TtmException>(() => AwsBackend.Connect(new AwsConnectionOptions
        {
            EndpointUrl = fleet.Endpoint.Url.ToString(), ProfileName = TestAwsEnvironment.WrongProfile, MaxRetries = 0,
        }));

        Assert.Equal(TtmErrorCode.AccessDenied, error.Code);
        Assert.Equal("AuthFailure", error.BackendCode);
        Assert.Contains("credentials", error.Message);
        Assert.Equal(401, fleet.Ec2.Requests.Last().Status);
    }

    [Fact]
    public void Connect_with_an_unknown_profile_names_the_profile()
    {
        var error = Assert.Throws<TtmException>(() => AwsBackend.Connect(new AwsConnectionOptions { ProfileName = "no-such-profile", EndpointUrl = "http://127.0.0.1:9/" }));

        Assert.Equal(TtmErrorCode.AccessDenied, error.Code);
        Assert.Contains("no-such-profile", error.Message);
    }

    [Fact]
    public void Connect_to_an_endpoint_nobody_listens_on_fails_with_ConnectionFailed()
    {
        var port = FreePort();

        var error = Assert.Throws<TtmException>(() => AwsBackend.Connect(new AwsConnectionOptions
        {
            EndpointUrl = $"http://127.0.0.1:{port}/", MaxRetries = 1, RequestTimeout = TimeSpan.FromSeconds(5),
        }));

        Assert.Equal(TtmErrorCode.ConnectionFailed, error.Code);
        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("-EndpointUrl", error.Message);
    }

    [Fact]
    public void The_location_never_shows_credentials_written_into_the_endpoint_url()
    {
        using var fleet = new AwsFleet();
        var withSecret = new UriBuilder(fleet.Endpoint.Url) { UserName = "admin", Password = "hunter2" }.Uri.ToString();

        using var backend = AwsBackend.Connect(new AwsConnectionOptions { EndpointUrl = withSecret });

        Assert.DoesNotContain("hunter2", backend.Location);
        Assert.Contains(fleet.Endpoint.Url.ToString(), backend.Location);
    }

    [Fact]
    public void Connect_with_a_malformed_endpoint_url_says_so()
    {
        var error = Assert.Throws<TtmException>(() => AwsBackend.Connect(new AwsConnectionOptions { EndpointUrl = "not a url" }));

        Assert.Equal(TtmErrorCode.InvalidArgument, error.Code);
        Assert.Contains("not a url", error.Message);
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

using System;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Rebundle.Errors;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>
/// The endpoint verifies SigV4 as EC2 does, so every other test's green means the product's
/// requests are signed right: the real SDK client, a right or a wrong secret, region or time.
/// </summary>
public class SignatureTests
{
    private static AmazonEC2Client Client(AwsFleet fleet, string secret, string region = TestAwsEnvironment.Region, HttpClientFactory? http = null) =>
        new(new BasicAWSCredentials(TestAwsEnvironment.AccessKey, secret), new AmazonEC2Config
        {
            ServiceURL = fleet.Endpoint.Url.ToString(), AuthenticationRegion = region, MaxErrorRetry = 0, HttpClientFactory = http,
        });

    private static AmazonEC2Exception Refused(AmazonEC2Client ec2) =>
        Assert.Throws<AmazonEC2Exception>(() => ec2.DescribeRegionsAsync(new DescribeRegionsRequest()).GetAwaiter().GetResult());

    [Fact]
    public void The_right_secret_passes_and_a_wrong_one_is_refused_with_SignatureDoesNotMatch()
    {
        using var fleet = new AwsFleet();
        using var right = Client(fleet, TestAwsEnvironment.SecretKey);
        using var wrong = Client(fleet, "not-the-secret-000001");

        right.DescribeRegionsAsync(new DescribeRegionsRequest()).GetAwaiter().GetResult();
        var error = Refused(wrong);

        Assert.Equal("SignatureDoesNotMatch", error.ErrorCode);
        Assert.Equal(403, (int)error.StatusCode);
        Assert.Equal(new[] { 200, 403 }, fleet.Ec2.Requests.Select(r => r.Status));
    }

    [Fact]
    public void Connect_with_the_right_key_and_a_wrong_secret_fails_with_AccessDenied_and_changes_nothing()
    {
        using var fleet = new AwsFleet();

        var error = Assert.Throws<TtmException>(() => AwsBackend.Connect(new AwsConnectionOptions
        {
            EndpointUrl = fleet.Endpoint.Url.ToString(), ProfileName = TestAwsEnvironment.WrongSecretProfile, Region = TestAwsEnvironment.Region, MaxRetries = 0,
        }));

        Assert.Equal(TtmErrorCode.AccessDenied, error.Code);
        Assert.Equal("SignatureDoesNotMatch", error.BackendCode);
        Assert.Contains("credentials", error.Message);
        Assert.All(fleet.Ec2.Requests, r => Assert.Equal(403, r.Status));
    }

    [Fact]
    public void A_signature_scoped_to_another_region_is_refused()
    {
        using var fleet = new AwsFleet();
        using var ec2 = Client(fleet, TestAwsEnvironment.SecretKey, region: "eu-west-1");

        var error = Refused(ec2);

        Assert.Equal("SignatureDoesNotMatch", error.ErrorCode);
        Assert.Contains("'eu-west-1'", error.Message);
    }

    [Fact]
    public void A_request_signed_more_than_15_minutes_from_the_endpoints_clock_has_expired()
    {
        var offset = TimeSpan.FromMinutes(14);
        using var fleet = new AwsFleet(configure: s => s.SignatureClock = () => DateTimeOffset.UtcNow + offset);
        using var ec2 = Client(fleet, TestAwsEnvironment.SecretKey);

        ec2.DescribeRegionsAsync(new DescribeRegionsRequest()).GetAwaiter().GetResult(); // 14 minutes apart: still current
        offset = TimeSpan.FromMinutes(-16);
        var error = Refused(ec2);

        Assert.Equal("RequestExpired", error.ErrorCode);
        Assert.Equal(400, (int)error.StatusCode);
    }

    [Fact]
    public void A_body_changed_after_signing_is_refused()
    {
        using var fleet = new AwsFleet();
        using var ec2 = Client(fleet, TestAwsEnvironment.SecretKey, http: new AppendingToBody("&RegionName.1=eu-west-1"));

        var error = Refused(ec2);

        Assert.Equal("SignatureDoesNotMatch", error.ErrorCode);
        Assert.Equal(403, (int)error.StatusCode);
    }

    /// <summary>A man in the middle: appends to every request's form body after the SDK has signed it.</summary>
    private sealed class AppendingToBody : HttpClientFactory
    {
        private readonly string _extra;

        public AppendingToBody(string extra) => _extra = extra;

        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new Tamper(_extra) { InnerHandler = new HttpClientHandler() });

        private sealed class Tamper : DelegatingHandler
        {
            private readonly string _extra;

            public Tamper(string extra) => _extra = extra;

            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancel)
            {
                var body = await request.Content!.ReadAsStringAsync(cancel);
                var type = request.Content.Headers.ContentType;
                request.Content = new StringContent(body + _extra);
                request.Content.Headers.ContentType = type;
                return await base.SendAsync(request, cancel);
            }
        }
    }
}

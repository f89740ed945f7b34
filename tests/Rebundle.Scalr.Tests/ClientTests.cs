using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using Rebundle.Errors;

namespace Rebundle.Scalr.Tests;

public class ClientTests
{
    [Fact]
    public void A_list_follows_pagination_next_to_the_last_page()
    {
        using var scalr = new LoopbackScalr(pageSize: 4);
        using var client = scalr.Client();
        var roles = client.List("roles/");
        // 8 production roles and 7 versioned ones, 4 to a page.
        Assert.Equal(15, roles.Count);
        Assert.Equal(15, roles.Select(r => r.GetProperty("id").GetInt32()).Distinct().Count());
        Assert.Contains(roles, r => r.GetProperty("name").GetString() == "SystemWatcher-1-6");
        var pages = scalr.Server.RequestLog.Where(r => r.Path.EndsWith("/roles/")).ToList();
        Assert.Equal(4, pages.Count);
        Assert.Equal(new[] { "", "maxResults=4&pageNum=2", "maxResults=4&pageNum=3", "maxResults=4&pageNum=4" }, pages.Select(p => p.Query));
    }

    [Fact]
    public void An_error_envelope_becomes_a_ttm_exception_with_the_scalr_code()
    {
        using var scalr = new LoopbackScalr();
        using var client = scalr.Client();
        var missing = Assert.Throws<TtmException>(() => client.Get("farms/999999/"));
        Assert.Equal(TtmErrorCode.FarmNotFound, missing.Code);
        Assert.Equal("ObjectNotFound", missing.BackendCode);
        Assert.Contains("Farm '999999' was not found", missing.Message);

        var duplicate = Assert.Throws<TtmException>(() => client.Post("roles/", new { name = "RailsAppServer", category = new { id = 1 }, os = new { id = "ubuntu-14-04" }, builtinAutomation = new[] { "chef" } }));
        Assert.Equal(TtmErrorCode.BackendError, duplicate.Code);
        Assert.Equal("UnicityViolation", duplicate.BackendCode);
        Assert.Contains("409", duplicate.Message);
    }

    [Fact]
    public void Not_found_codes_follow_the_route()
    {
        Assert.Equal(TtmErrorCode.ServerNotFound, ScalrErrors.NotFoundCode("/api/v1beta0/user/5/servers/abc/actions/terminate/"));
        Assert.Equal(TtmErrorCode.ImageNotFound, ScalrErrors.NotFoundCode("/api/v1beta0/user/5/roles/3/images/xyz/actions/replace/"));
        Assert.Equal(TtmErrorCode.FarmRoleNotFound, ScalrErrors.NotFoundCode("/api/v1beta0/user/5/farm-roles/40/"));
        Assert.Equal(TtmErrorCode.RoleNotFound, ScalrErrors.NotFoundCode("/api/v1beta0/user/5/roles/3/"));
        // A launch into (or a list of) a farm role that is gone misses the farm role, not a server.
        Assert.Equal(TtmErrorCode.FarmRoleNotFound, ScalrErrors.NotFoundCode("/api/v1beta0/user/5/farm-roles/40/servers/"));
        Assert.Equal(TtmErrorCode.RoleNotFound, ScalrErrors.NotFoundCode("/api/v1beta0/user/5/roles/3/images/?pageNum=2"));
        Assert.Equal(TtmErrorCode.FarmNotFound, ScalrErrors.NotFoundCode("/api/v1beta0/user/6/farms/?maxResults=1")); // Connect: no such environment
    }

    [Fact]
    public void A_503_is_retried_with_backoff_and_the_call_succeeds()
    {
        using var scalr = new LoopbackScalr();
        using var client = scalr.Client();
        var before = scalr.Clock.UtcNow;
        scalr.Server.FailNext(2, 503);
        var farms = client.List("farms/");
        Assert.Equal(3, farms.Count);
        Assert.Equal(new[] { 503, 503, 200 }, scalr.Server.RequestLog.Take(3).Select(r => r.Status));
        // Backoff 0.5 s then 1 s, slept on the backend's clock.
        Assert.Equal(TimeSpan.FromSeconds(1.5), scalr.Clock.UtcNow - before);
    }

    [Fact]
    public void A_429_is_retried_too()
    {
        using var scalr = new LoopbackScalr();
        using var client = scalr.Client();
        scalr.Server.FailNext(1, 429);
        Assert.Equal(3, client.List("farms/").Count);
        Assert.Equal(new[] { 429, 200 }, scalr.Server.RequestLog.Take(2).Select(r => r.Status));
    }

    [Fact]
    public void Retries_are_bounded_and_the_last_error_is_reported()
    {
        using var scalr = new LoopbackScalr();
        var options = scalr.Options();
        options.MaxRetries = 3;
        using var client = new ScalrClient(options, scalr.Clock);
        scalr.Server.FailNext(100, 503);
        var e = Assert.Throws<TtmException>(() => client.List("farms/"));
        Assert.Equal(TtmErrorCode.BackendError, e.Code);
        Assert.Equal("ServiceUnavailable", e.BackendCode);
        Assert.Equal(4, scalr.Server.RequestLog.Count);
    }

    [Fact]
    public void Client_errors_are_not_retried()
    {
        using var scalr = new LoopbackScalr();
        using var client = scalr.Client();
        Assert.Throws<TtmException>(() => client.Get("roles/424242/"));
        Assert.Single(scalr.Server.RequestLog);
    }

    [Fact]
    public void An_unreachable_server_is_a_connection_failure()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        using var scalr = new LoopbackScalr();
        var options = scalr.Options();
        options.Url = new Uri($"http://127.0.0.1:{port}/");
        options.MaxRetries = 1;
        var e = Assert.Throws<TtmException>(() => ScalrBackend.Connect(options, scalr.Clock));
        Assert.Equal(TtmErrorCode.ConnectionFailed, e.Code);
        Assert.Contains($"127.0.0.1:{port}", e.Message);
    }
}

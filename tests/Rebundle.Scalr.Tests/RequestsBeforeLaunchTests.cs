using System;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using Rebundle.Runbook;
using Xunit;
using Xunit.Abstractions;

namespace Rebundle.Scalr.Tests;

/// <summary>
/// What a recycle costs on Scalr before its first server launch (issue 23), counted on the
/// loopback's request log with pages of 100 (Scalr's largest), so each list is one request.
/// Scalr's farm leases are local files: no request.
/// </summary>
public class RequestsBeforeLaunchTests
{
    /// <summary>
    /// In order: the farms (the scope's names), each farm's farm roles (every farm's, as the
    /// scope may name any; the farm list's counts are the same lists), the roles (the names the
    /// farm roles run), the environment's servers in one list (read once the lease is held), and
    /// the launch's own read of its farm role's servers, against which a lost answer is settled.
    /// </summary>
    private static readonly string[] BeforeLaunch =
    {
        "GET farms/", "GET farms/{id}/farm-roles/", "GET farms/{id}/farm-roles/", "GET farms/{id}/farm-roles/",
        "GET roles/", "GET servers/",
        "GET farm-roles/{id}/servers/",
    };

    private readonly ITestOutputHelper _output;

    public RequestsBeforeLaunchTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(false, "Dev")]
    [InlineData(true, "Rebundle-Staging", "Dev", "Production")]
    public void A_recycle_reads_each_list_once_before_its_first_launch_one_farm_or_three_side_by_side(bool sideBySide, params string[] farms)
    {
        using var scalr = new LoopbackScalr(pageSize: 100);
        using var backend = scalr.Connect();
        var fleet = Fleet.Audited(backend, new NoAudit(), "ops@host");
        scalr.Server.ClearLog();
        var service = new RecycleService(fleet, new RecordingReporter());

        var plans = service.PlanUnderLease(RecycleScope.Of(farms), batchSize: 1, _ => { });
        var done = service.Execute(plans.Items, new RecycleOptions { Timeout = TimeSpan.FromMinutes(15), SideBySide = sideBySide }, CancellationToken.None);

        Assert.Equal(farms.OrderBy(f => f), done.Select(r => r.Farm).Distinct().OrderBy(f => f));
        var prefix = "/user/" + LoopbackScalr.EnvId + "/";
        var before = scalr.Server.RequestLog
            .TakeWhile(r => !(r.Method == "POST" && r.Path.EndsWith("/servers/", StringComparison.Ordinal)))
            .Select(r => r.Method + " " + Regex.Replace(r.Path.Substring(r.Path.IndexOf(prefix, StringComparison.Ordinal) + prefix.Length), "/[0-9]+/", "/{id}/"))
            .ToList();
        _output.WriteLine(string.Join(", ", before));
        Assert.Equal(BeforeLaunch, before);
    }
}

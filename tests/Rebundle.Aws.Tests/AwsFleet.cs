using System;
using System.Collections.Generic;
using System.Linq;
using Rebundle.Ec2Endpoint;
using Rebundle.Runbook;
using Rebundle.TestKit;

namespace Rebundle.Aws.Tests;

/// <summary>
/// One test's world: a loopback EC2 endpoint (seeded with the runbook's fleet unless asked
/// not to), an AwsBackend connected to it through the real SDK, and a manual clock shared by
/// both, so boots and images finish when the test's waits advance time.
/// </summary>
public sealed class AwsFleet : IDisposable
{
    /// <param name="beforeConnect">Called with the endpoint's URL once it listens, before the backend connects (e.g. to point STS at it).</param>
    public AwsFleet(bool seed = true, Action<Ec2Settings>? configure = null, AwsConnectionOptions? options = null, Action<Uri>? beforeConnect = null)
    {
        Clock = new ManualClock(new DateTimeOffset(DateTimeOffset.UtcNow.Year, 1, 1, 9, 0, 0, TimeSpan.Zero));
        // EC2 as strict as it is: new objects show late, status checks are reported late and read
        // insufficient-data before ok. A test that needs them otherwise says so in configure.
        var settings = new Ec2Settings
        {
            Now = () => Clock.UtcNow,
            VisibilityDelay = StrictVisibilityDelay,
            StatusReportDelay = TimeSpan.FromSeconds(10),
            InsufficientDataTime = TimeSpan.FromSeconds(10),
        };
        settings.UseKey(TestAwsEnvironment.AccessKey, TestAwsEnvironment.SecretKey);
        configure?.Invoke(settings);
        Ec2 = new Ec2Fleet(settings);
        if (seed) RunbookSeed.Apply(Ec2);
        Endpoint = Rebundle.Ec2Endpoint.Ec2Endpoint.Start(Ec2);
        beforeConnect?.Invoke(Endpoint.Url);
        options ??= new AwsConnectionOptions();
        options.EndpointUrl ??= Endpoint.Url.ToString();
        options.PollInterval ??= TimeSpan.FromSeconds(5);
        Backend = AwsBackend.Connect(options, new WatchingClock(Clock) { Slept = () => Slept?.Invoke() });
        Fleet = new Fleet(Backend);
        Ec2.ClearRequests(); // the connect probe is not part of what tests count
    }

    /// <summary>
    /// Another machine's connection to the same endpoint and clock: its own AwsBackend, holding
    /// leases as <paramref name="user"/> on <paramref name="host"/>. Disposed with the fleet.
    /// </summary>
    public AwsBackend AnotherMachine(string user, string host, AwsConnectionOptions? options = null)
    {
        options ??= new AwsConnectionOptions();
        options.EndpointUrl = Endpoint.Url.ToString();
        options.LeaseUser = user;
        options.LeaseHost = host;
        var backend = AwsBackend.Connect(options, Clock);
        _others.Add(backend);
        return backend;
    }

    private readonly List<AwsBackend> _others = new();

    /// <summary>How long new instances, images and templates stay out of Describe* answers in every test (EC2: seconds).</summary>
    public static readonly TimeSpan StrictVisibilityDelay = TimeSpan.FromSeconds(5);

    public ManualClock Clock { get; }

    /// <summary>Called after each of the backend's waits sleeps (one poll round), to watch the fleet at every poll.</summary>
    public Action? Slept { get; set; }

    public Ec2Fleet Ec2 { get; }

    public Rebundle.Ec2Endpoint.Ec2Endpoint Endpoint { get; }

    public AwsBackend Backend { get; }

    public Fleet Fleet { get; }

    public int Calls(string action) => Ec2.CountOf(action);

    public IReadOnlyList<LoggedRequest> Mutations => Ec2.Requests.Where(r => r.IsMutating).ToList();

    /// <summary>The raw tags of the instance with this id, as EC2 holds them.</summary>
    public IReadOnlyDictionary<string, string> InstanceTags(string id) =>
        Ec2.Instances.Single(i => i.Id == id).Tags.All.ToDictionary(t => t.Key, t => t.Value);

    public void Dispose()
    {
        Fleet.Dispose();
        _others.ForEach(b => b.Dispose());
        Endpoint.Dispose();
    }
}

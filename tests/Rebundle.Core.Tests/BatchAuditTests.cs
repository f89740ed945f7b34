using Rebundle.Audit;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Xunit;

namespace Rebundle.Tests;

/// <summary>
/// Batches through the audit wrapper on the Sandbox: one intent and one outcome per batch, naming
/// every server, found by any one server's target as Get-TtmAuditLog -Target finds it.
/// </summary>
public class BatchAuditTests : IDisposable
{
    private readonly TestFleet _t = new();
    private readonly LineSink _log = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public void A_batch_launch_of_three_is_one_intent_and_one_outcome_naming_every_server()
    {
        var audited = new AuditingBackend(_t.Backend, _log, "ops@host");

        var launched = audited.LaunchServers(_t.Fleet.RequireFarmRole("Production", "Sidekiq"), 3);

        Assert.Equal(3, launched.Count);
        Assert.Equal(new[] { true, false }, _log.Lines().Select(l => l.IsIntent));
        var change = Assert.Single(_log.Changes());
        Assert.Equal(("LaunchServer", AuditOutcome.Done), (change.Action, change.Outcome));
        Assert.Equal(launched.Select(s => $"Production/Sidekiq/{s.Name}"), change.Servers);
        foreach (var server in launched)
        {
            Assert.Contains($"{server.Name} ({server.Id})", change.After);
            Assert.Equal(change.ChangeId, Assert.Single(_log.Changes(), e => AuditTargets.Matches(e, new[] { $"Production/Sidekiq/{server.Name}" })).ChangeId);
        }
        Assert.Single(_log.Changes(), e => AuditTargets.Matches(e, new[] { "Production/Sidekiq/*" }));
        Assert.DoesNotContain(_log.Changes(), e => AuditTargets.Matches(e, new[] { "Production/Sidekiq/Sidekiq-999" }));
    }

    [Fact]
    public void A_batch_terminate_of_three_is_one_intent_and_one_outcome_and_each_server_finds_it()
    {
        var audited = new AuditingBackend(_t.Backend, _log, "ops@host");
        var servers = audited.LaunchServers(_t.Fleet.RequireFarmRole("Dev", "Sidekiq"), 3);
        _log.Clear();

        audited.TerminateServers(servers);

        Assert.Equal(new[] { true, false }, _log.Lines().Select(l => l.IsIntent));
        Assert.All(_log.Lines(), line => Assert.Equal(servers.Select(s => $"Dev/Sidekiq/{s.Name}"), line.Servers));
        var change = Assert.Single(_log.Changes());
        Assert.Equal(("TerminateServer", AuditOutcome.Done), (change.Action, change.Outcome));
        foreach (var server in servers)
        {
            Assert.Contains($"{server.Name} ({server.Id})", change.Before);
            Assert.Single(_log.Changes(), e => AuditTargets.Matches(e, new[] { $"Dev/Sidekiq/{server.Name}" }));
        }
        Assert.DoesNotContain(_t.Fleet.GetServers(new[] { "Dev" }, new[] { "Sidekiq" }, null).Items, s => servers.Any(b => b.Id == s.Id));
    }

    [Fact]
    public void A_batch_that_fails_part_way_writes_an_outcome_naming_the_servers_it_launched()
    {
        var audited = new AuditingBackend(new FailsAfter(_t.Backend, launches: 2), _log, "ops@host");

        var error = Assert.Throws<LaunchIncompleteException>(() => audited.LaunchServers(_t.Fleet.RequireFarmRole("Dev", "Reports"), 3));

        Assert.Equal(2, error.Launched.Count);
        Assert.Equal(2, _log.Lines().Count);
        var change = Assert.Single(_log.Changes());
        Assert.Equal(AuditOutcome.Failed, change.Outcome);
        Assert.Contains("quota", change.Error);
        Assert.Equal(error.Launched.Select(s => $"Dev/Reports/{s.Name}"), change.Servers);
        foreach (var server in error.Launched)
        {
            Assert.Contains($"{server.Name} ({server.Id})", change.After);
            Assert.Single(_log.Changes(), e => AuditTargets.Matches(e, new[] { $"Dev/Reports/{server.Name}" }));
        }
    }

    [Fact]
    public void The_sandbox_writes_its_state_file_once_for_a_batch_of_fifty_launches_and_once_for_fifty_terminations()
    {
        var farmRole = _t.Fleet.RequireFarmRole("Production", "RailsAppServer");
        var before = _t.Backend.StateWrites;

        var launched = _t.Backend.LaunchServers(farmRole, 50);

        Assert.Equal(50, launched.Count);
        Assert.Equal(before + 1, _t.Backend.StateWrites);

        _t.Backend.TerminateServers(launched);

        Assert.Equal(before + 2, _t.Backend.StateWrites);
        Assert.All(_t.Backend.GetServers(new ServerQuery { Ids = launched.Select(s => s.Id).ToList(), IncludeTerminated = true }),
            s => Assert.Equal(ServerStatus.Terminated, s.Status));
    }

    /// <summary>
    /// A backend whose batch launch stops part-way, as Scalr's loop of single launches does when
    /// the cloud refuses one: the Sandbox launches the first servers, then the batch fails.
    /// </summary>
    private sealed class FailsAfter : IFleetBackend
    {
        private readonly IFleetBackend _inner;
        private readonly int _launches;

        public FailsAfter(IFleetBackend inner, int launches)
        {
            _inner = inner;
            _launches = launches;
        }

        public BackendKind Kind => _inner.Kind;
        public bool SnapshotReboots => _inner.SnapshotReboots;
        public string Location => _inner.Location;
        public Runbook.IClock Clock => _inner.Clock;
        public TimeSpan PollInterval => _inner.PollInterval;
        public IReadOnlyList<Farm> GetFarms(CancellationToken cancellationToken = default) => _inner.GetFarms(cancellationToken);
        public IReadOnlyList<FarmRole> GetFarmRoles(IReadOnlyCollection<string>? farms = null, CancellationToken cancellationToken = default) => _inner.GetFarmRoles(farms, cancellationToken);
        public IReadOnlyList<Role> GetRoles(CancellationToken cancellationToken = default) => _inner.GetRoles(cancellationToken);
        public IReadOnlyList<Server> GetServers(ServerQuery query, CancellationToken cancellationToken = default) => _inner.GetServers(query, cancellationToken);
        public IReadOnlyList<Image> GetImages(IReadOnlyCollection<string> imageIds, CancellationToken cancellationToken = default) => _inner.GetImages(imageIds, cancellationToken);
        public Image CreateImage(Server source, string imageName, bool noReboot = false, CancellationToken cancellationToken = default) => _inner.CreateImage(source, imageName, noReboot, cancellationToken);
        public Role CreateRole(string roleName, Role template, string imageId, string? runId = null, CancellationToken cancellationToken = default) => _inner.CreateRole(roleName, template, imageId, runId, cancellationToken);
        public Role SetRoleImage(Role role, string imageId, CancellationToken cancellationToken = default) => _inner.SetRoleImage(role, imageId, cancellationToken);
        public FarmRole SetFarmRoleRole(FarmRole farmRole, string roleName, CancellationToken cancellationToken = default) => _inner.SetFarmRoleRole(farmRole, roleName, cancellationToken);
        public void TerminateServers(IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default) => _inner.TerminateServers(servers, cancellationToken);
        public T? Capability<T>() where T : class => _inner.Capability<T>();
        public void Dispose() => _inner.Dispose();

        public IReadOnlyList<Server> LaunchServers(FarmRole farmRole, int count, CancellationToken cancellationToken = default)
        {
            var launched = _inner.LaunchServers(farmRole, Math.Min(count, _launches), cancellationToken);
            if (launched.Count == count) return launched;
            throw new LaunchIncompleteException(new TtmException(TtmErrorCode.BackendError, "The cloud refused the next launch: instance quota reached."), launched,
                $"Launched {launched.Count} of {count} servers of farm role {farmRole}, then: instance quota reached.");
        }
    }
}

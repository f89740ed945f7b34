using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Rebundling;
using Rebundle.Runbook;

namespace Rebundle.Remote
{
    /// <summary>
    /// The rebundle's remote work (<see cref="IServerPreparation"/>) over SSH: the OS update
    /// of step 1 (with reboot, as the runbook says) and the checks of steps 5 and 6, on all
    /// servers in parallel, with the same logic as Update-TtmServerOs and Test-TtmServer.
    /// </summary>
    public sealed class RemoteServerPreparation : IServerPreparation
    {
        private readonly IRemoteShellFactory _factory;
        private readonly SshTargets _targets;
        private readonly OsUpdateOptions _update;
        private readonly ServerVerifier _verifier;
        private readonly IClock _clock;
        private readonly IRunbookReporter _reporter;
        private readonly int _throttleLimit;

        public RemoteServerPreparation(
            IRemoteShellFactory factory, SshTargets targets, OsUpdateOptions update, ServerVerifier verifier,
            IClock clock, IRunbookReporter reporter, int throttleLimit = RemoteRunner.DefaultThrottleLimit)
        {
            _factory = factory;
            _targets = targets;
            _update = update;
            _verifier = verifier;
            _clock = clock;
            _reporter = reporter;
            _throttleLimit = throttleLimit;
        }

        public void UpdateOs(IReadOnlyList<Server> servers, IReadOnlyList<string> packages, CancellationToken cancellation)
        {
            var updater = new OsUpdater(_update with { Packages = packages, Reboot = true }, _clock);
            var failures = new List<TtmException>();
            _targets.ReadAgents(servers, cancellation);
            var settings = new List<SshConnectionSettings>();
            foreach (var server in servers)
            {
                try
                {
                    settings.Add(Target(server));
                }
                catch (TtmException e)
                {
                    failures.Add(e);
                }
            }

            if (failures.Count == 0)
            {
                foreach (var outcome in Runner().Run("Updating the OS", settings, updater.Update, cancellation))
                {
                    if (outcome.Error != null) failures.Add(outcome.Error);
                    else _reporter.Verbose(outcome.Result!.ToString());
                }
            }

            if (failures.Count == 1) throw failures[0];
            if (failures.Count > 1)
                throw new TtmException(failures[0].Code, $"The OS update failed on {failures.Count} servers: " + string.Join(" | ", failures.Select(f => f.Message)), failures[0].Target);
        }

        public IReadOnlyList<string> Verify(IReadOnlyList<Server> servers, CancellationToken cancellation)
        {
            var failures = new List<string>();
            var settings = new List<SshConnectionSettings>();
            _targets.ReadAgents(servers, cancellation);
            foreach (var server in servers)
            {
                try
                {
                    settings.Add(Target(server));
                }
                catch (TtmException e)
                {
                    failures.Add($"{server.Name}: {e.Message}");
                }
            }

            foreach (var outcome in Runner().Run("Checking servers", settings, _verifier.Verify, cancellation))
            {
                if (outcome.Error != null) failures.Add($"{outcome.Target.ServerName}: {outcome.Error.Message}");
                else failures.AddRange(outcome.Result!.Where(r => !r.Passed).Select(r => $"{r.Server}: {r.Check}: {r.Detail}"));
            }

            return failures;
        }

        public IReadOnlyList<Server> ThroughBackend(IReadOnlyList<Server> servers)
        {
            var overSsm = new List<Server>();
            _targets.ReadAgents(servers, CancellationToken.None);
            foreach (var server in servers)
            {
                try
                {
                    if (_targets.For(server).Transport == RemoteTransport.Ssm) overSsm.Add(server);
                }
                catch (TtmException)
                {
                    // Unreachable either way: the run reports it when it gets there, not the preflight.
                }
            }
            return overSsm;
        }

        /// <summary>The server's connection settings, with the transport and why in -Verbose, as the remote cmdlets say it.</summary>
        private SshConnectionSettings Target(Server server)
        {
            var settings = _targets.For(server);
            _reporter.Verbose($"{server.Name} of farm {server.Farm}: over {settings.Transport} ({settings.TransportReason}).");
            return settings;
        }

        private RemoteRunner Runner() => new RemoteRunner(_factory, _reporter, _throttleLimit);
    }
}

using Amazon.SimpleSystemsManagement.Model;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Remote;
using Rebundle.Runbook;

namespace Rebundle.Aws.Ssm
{
    /// <summary>
    /// Remote work over Systems Manager (<see cref="ISsmTransport"/>): a shell is opened only when
    /// the instance's agent is online (one DescribeInstanceInformation, else TtmServerUnreachable
    /// naming the agent's status), so an offline agent never looks like a hung command. The agents
    /// of many servers are read in one call (<see cref="ReadAgents"/>) and answered from it. Its
    /// lock guards only what it read.
    /// </summary>
    internal sealed class AwsSsmTransport : ISsmTransport, IDisposable
    {
        private readonly SsmCalls _calls;
        private readonly IClock _clock;
        private readonly object _gate = new object();
        private readonly Dictionary<string, InstanceInformation?> _agents = new Dictionary<string, InstanceInformation?>(StringComparer.Ordinal);

        public AwsSsmTransport(SsmCalls calls, IClock clock)
        {
            _calls = calls;
            _clock = clock;
        }

        /// <summary>The first pause between polls of an invocation (tests shorten it); it grows by half each quiet round.</summary>
        public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

        public SsmCalls Calls => _calls;

        public IRemoteShellFactory Shells(string? outputBucket) => new Factory(this, new SsmOptions { OutputBucket = outputBucket, PollInterval = PollInterval });

        public void ReadAgents(IReadOnlyCollection<Server> servers, CancellationToken cancellation)
        {
            var ids = servers.Select(s => s.Id).Where(id => !string.IsNullOrEmpty(id)).Distinct(StringComparer.Ordinal).ToList();
            if (ids.Count == 0) return;
            var found = _calls.Agents(ids, cancellation);
            lock (_gate)
                foreach (var id in ids) _agents[id] = found.TryGetValue(id, out var info) ? info : null;
        }

        public bool IsOnline(Server server)
        {
            bool known;
            lock (_gate) known = _agents.ContainsKey(server.Id);
            if (!known) ReadAgents(new[] { server }, CancellationToken.None);
            lock (_gate) return _agents.TryGetValue(server.Id, out var info) && info?.PingStatus?.Value == "Online";
        }

        private IRemoteShell Connect(SshConnectionSettings settings, SsmOptions options, CancellationToken cancellation)
        {
            var id = settings.InstanceId ?? throw new TtmException(TtmErrorCode.InvalidArgument, $"{settings.Label} has no instance id to reach over SSM.", settings.Label);
            // Asked afresh each time: after a reboot the agent is offline until the server is back.
            var info = _calls.Agents(new[] { id }, cancellation).TryGetValue(id, out var found) ? found : null;
            lock (_gate) _agents[id] = info;
            if (info?.PingStatus?.Value != "Online")
                throw new TtmException(TtmErrorCode.ServerUnreachable,
                    info == null
                        ? $"{settings.Label} ({id}) is not a managed instance of Systems Manager (no SSM agent has registered it). Install and start the SSM agent with an instance profile that allows it, or use -Transport Ssh."
                        : $"{settings.Label} ({id}) cannot be reached over SSM: its agent is {info.PingStatus} (last ping {info.LastPingDateTime:u}). Start the agent (systemctl start amazon-ssm-agent), or use -Transport Ssh.",
                    settings.Label);
            return new SsmShell(_calls, settings, _clock, options);
        }

        public void Dispose() => _calls.Dispose();

        /// <summary>One call's shells: its output bucket and poll pace.</summary>
        private sealed class Factory : IRemoteShellFactory
        {
            private readonly AwsSsmTransport _transport;
            private readonly SsmOptions _options;

            public Factory(AwsSsmTransport transport, SsmOptions options)
            {
                _transport = transport;
                _options = options;
            }

            public IRemoteShell Connect(SshConnectionSettings settings, CancellationToken cancellation) => _transport.Connect(settings, _options, cancellation);
        }
    }
}

using Amazon.EC2.Model;
using Rebundle.Aws.Ec2;
using Rebundle.Backends;

namespace Rebundle.Aws
{
    /// <summary>
    /// One view of the fleet for a planning pass (<see cref="ISharedListReads"/>): while a scope
    /// is open, each read is made once and later reads get its answer — farm roles (every farm's,
    /// so any farm's question is answered from one pass), roles, servers per query, a role's
    /// launch settings. A change this connection makes forgets what it changed (<see cref="Changed"/>),
    /// so a read after it goes to EC2 again. Outside a scope every read goes to EC2. The lock
    /// guards only the answers; reads are made outside it.
    /// </summary>
    internal sealed class AwsSharedReads : ISharedListReads
    {
        /// <summary>What the backend's reads are kept under; a change forgets the keys that start with its list's.</summary>
        internal const string FarmRoles = "farm-roles", Roles = "roles", Servers = "servers|", LaunchSettings = "launch-settings|", ScalingGroups = "scaling-groups|";

        private readonly Ec2Reads _reads;
        private readonly object _gate = new object();
        private Dictionary<string, object>? _answers;
        private int _scopes;

        public AwsSharedReads(Ec2Reads reads) => _reads = reads;

        public IDisposable ReadEachListOnce()
        {
            lock (_gate)
            {
                if (_scopes++ == 0) _answers = new Dictionary<string, object>(StringComparer.Ordinal);
            }
            return new Scope(this);
        }

        public bool IsOpen
        {
            get { lock (_gate) return _scopes > 0; }
        }

        /// <summary>Inside a scope, the first answer to <paramref name="key"/>; outside, <paramref name="read"/> every time.</summary>
        public T Once<T>(string key, Func<T> read) where T : class
        {
            lock (_gate)
            {
                if (_answers != null && _answers.TryGetValue(key, out var known)) return (T)known;
            }
            var answer = read();
            lock (_gate)
            {
                if (_answers != null) _answers[key] = answer;
            }
            return answer;
        }

        /// <summary>Every farm's farm-role templates, read once for the scope: what each farm's question is answered from.</summary>
        public List<LaunchTemplate> AllFarmRoleTemplates(CancellationToken cancellationToken) =>
            Once(FarmRoles, () => _reads.FarmRoleTemplates("Reading farm roles", cancellationToken));

        /// <summary>This connection changed <paramref name="list"/> (one of the keys above, or a key's start): later reads of it go to EC2.</summary>
        public void Changed(string list)
        {
            lock (_gate)
            {
                if (_answers == null) return;
                foreach (var key in _answers.Keys.Where(k => k.StartsWith(list, StringComparison.Ordinal)).ToList()) _answers.Remove(key);
            }
        }

        private void End()
        {
            lock (_gate)
            {
                if (--_scopes == 0) _answers = null;
            }
        }

        private sealed class Scope : IDisposable
        {
            private AwsSharedReads? _reads;

            public Scope(AwsSharedReads reads) => _reads = reads;

            public void Dispose() => Interlocked.Exchange(ref _reads, null)?.End();
        }
    }
}

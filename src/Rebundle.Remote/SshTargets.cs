using System.Security;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Remote
{
    /// <summary>The operator's SSH choices, shared by every server of one call.</summary>
    public sealed record SshOptions
    {
        /// <summary>-KeyFile; null for the farm-key convention.</summary>
        public string? KeyFile { get; init; }

        /// <summary>-KeyPassphrase; null to ask (when a key needs one) or for unencrypted keys.</summary>
        public SecureString? Passphrase { get; init; }

        public string User { get; init; } = SshConnectionSettings.DefaultUser;

        public int Port { get; init; } = SshConnectionSettings.DefaultPort;

        /// <summary>-Address: connect here instead of the server's own address.</summary>
        public string? Address { get; init; }

        public string? KnownHostsFile { get; init; }

        public IReadOnlyList<string> HostKeyFingerprints { get; init; } = Array.Empty<string>();

        public bool TrustNewHostKey { get; init; }

        public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

        public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(10);

        /// <summary>-Transport: Ssh, Ssm, or null to choose per server (SSH when a key is found, else SSM when its agent is online).</summary>
        public RemoteTransport? Transport { get; init; }

        public override string ToString() => $"{User}@{Address ?? "(server address)"}:{Port}";
    }

    /// <summary>
    /// Turns servers into connection settings: the address (public, else private IP, unless
    /// overridden), the key file (explicit, else the farm's by convention) and its passphrase
    /// (asked for once per key file through <c>passphraseFor</c>), and the host-key policy.
    /// </summary>
    public sealed class SshTargets
    {
        private readonly SshOptions _options;
        private readonly KeyFileResolver _keys;
        private readonly Func<string, SecureString?> _passphraseFor;
        private readonly Dictionary<string, SecureString?> _passphrases = new Dictionary<string, SecureString?>(StringComparer.Ordinal);

        /// <param name="passphraseFor">Given a key file, its passphrase (or null); asked only when no passphrase was given.</param>
        public SshTargets(SshOptions options, KeyFileResolver keys, Func<string, SecureString?>? passphraseFor = null)
        {
            _options = options;
            _keys = keys;
            _passphraseFor = passphraseFor ?? (_ => null);
        }

        /// <summary>
        /// Where SSM can reach servers: the backend's <see cref="ISsmTransport"/> (AWS), null
        /// elsewhere. With it and no -Transport, a server without a key goes over SSM when its
        /// agent is online.
        /// </summary>
        public ISsmTransport? Ssm { get; init; }

        /// <summary>
        /// Reads the SSM agents of all these servers in one call when SSM may be chosen for them
        /// (no -Transport), so <see cref="For"/> asks nothing per server. A refused read (no ssm:
        /// permissions) only means SSM is not chosen.
        /// </summary>
        public void ReadAgents(IReadOnlyCollection<Server> servers, CancellationToken cancellation)
        {
            if (_options.Transport != null || Ssm == null || servers.Count == 0) return;
            try
            {
                Ssm.ReadAgents(servers, cancellation);
            }
            catch (TtmException)
            {
                // Each server then goes over SSH, or says why it cannot.
            }
        }

        /// <summary>Settings for one server, or a TtmException saying why it cannot be reached.</summary>
        public SshConnectionSettings For(Server server)
        {
            if (_options.Transport == RemoteTransport.Ssm) return OverSsm(server, "-Transport Ssm");
            if (_options.Transport == null && Ssm != null)
            {
                try
                {
                    return OverSsh(server);
                }
                catch (TtmException noKey) when (noKey.Code == TtmErrorCode.SshKeyNotFound && Ssm.IsOnline(server))
                {
                    return OverSsm(server, "no SSH key found and its SSM agent is online");
                }
            }
            return OverSsh(server);
        }

        private SshConnectionSettings OverSsm(Server server, string reason)
        {
            if (Ssm == null)
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    $"Server {server.Name} of farm {server.Farm} cannot be reached over SSM: this fleet's backend has no Systems Manager (only AWS has). Use -Transport Ssh.", server.Name);
            return new SshConnectionSettings
            {
                ServerName = server.Name,
                Farm = server.Farm,
                Address = server.Id,
                InstanceId = server.Id,
                Transport = RemoteTransport.Ssm,
                TransportReason = reason,
                ConnectTimeout = _options.ConnectTimeout,
                CommandTimeout = _options.CommandTimeout,
            };
        }

        private SshConnectionSettings OverSsh(Server server)
        {
            var address = string.IsNullOrEmpty(_options.Address) ? server.Address : _options.Address;
            if (string.IsNullOrEmpty(address))
                throw new TtmException(TtmErrorCode.SshConnectionFailed,
                    $"Server {server.Name} of farm {server.Farm} has no public or private IP address yet (status {server.Status}). Wait until it runs, or give -Address.", server.Name);
            var keyFile = _keys.Resolve(_options.KeyFile, server.FarmId, server.Region, server.Name);
            var passphrase = _options.Passphrase;
            if (passphrase == null && !_passphrases.TryGetValue(keyFile, out passphrase))
                _passphrases[keyFile] = passphrase = _passphraseFor(keyFile);
            return new SshConnectionSettings
            {
                ServerName = server.Name,
                Farm = server.Farm,
                Address = address!,
                Port = _options.Port,
                User = _options.User,
                KeyFile = keyFile,
                Passphrase = passphrase,
                KnownHostsFile = _options.KnownHostsFile,
                HostKeyFingerprints = _options.HostKeyFingerprints,
                TrustNewHostKey = _options.TrustNewHostKey,
                ConnectTimeout = _options.ConnectTimeout,
                CommandTimeout = _options.CommandTimeout,
                TransportReason = _options.Transport == RemoteTransport.Ssh ? "-Transport Ssh" : "SSH",
            };
        }
    }
}

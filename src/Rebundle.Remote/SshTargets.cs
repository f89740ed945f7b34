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

        /// <summary>Settings for one server, or a TtmException saying why it cannot be reached.</summary>
        public SshConnectionSettings For(Server server)
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
            };
        }
    }
}

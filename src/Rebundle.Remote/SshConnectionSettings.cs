using System.Security;

namespace Rebundle.Remote
{
    /// <summary>How a server's remote work reaches it: SSH (port 22, a key), or AWS Systems Manager Run Command (the SSM agent, no port, no key).</summary>
    public enum RemoteTransport
    {
        Ssh,
        Ssm,
    }

    /// <summary>
    /// Everything needed to reach one server over SSH (or, with <see cref="Transport"/> Ssm, over Systems Manager). The passphrase is a SecureString and is
    /// never part of <see cref="ToString"/>; the key file is a path, never its contents.
    /// </summary>
    public sealed record SshConnectionSettings
    {
        public const int DefaultPort = 22;
        public const string DefaultUser = "root";

        /// <summary>The server's friendly name, e.g. <c>TTM-Base.1</c>; used in results and messages.</summary>
        public string ServerName { get; init; } = "";

        /// <summary>The farm the server belongs to (empty when unknown).</summary>
        public string Farm { get; init; } = "";

        /// <summary>The IP address or host name to connect to.</summary>
        public string Address { get; init; } = "";

        public int Port { get; init; } = DefaultPort;

        public string User { get; init; } = DefaultUser;

        /// <summary>The private key file (PEM or OpenSSH format) to authenticate with.</summary>
        public string KeyFile { get; init; } = "";

        /// <summary>The key's passphrase; null for an unencrypted key.</summary>
        public SecureString? Passphrase { get; init; }

        /// <summary>The OpenSSH known_hosts file host keys are checked against (and appended to when trusting).</summary>
        public string? KnownHostsFile { get; init; }

        /// <summary>Pinned host-key fingerprints (<c>SHA256:…</c>); when given, the host key must match one of them.</summary>
        public IReadOnlyList<string> HostKeyFingerprints { get; init; } = Array.Empty<string>();

        /// <summary>Accept a host key the known-hosts file does not list yet, and add it there. A changed key is still refused.</summary>
        public bool TrustNewHostKey { get; init; }

        /// <summary>How long connecting and authenticating may take.</summary>
        public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

        /// <summary>SSH, or SSM Run Command to <see cref="InstanceId"/> (then the key, port and host-key settings are not used).</summary>
        public RemoteTransport Transport { get; init; } = RemoteTransport.Ssh;

        /// <summary>The EC2 instance id, for SSM.</summary>
        public string? InstanceId { get; init; }

        /// <summary>Why <see cref="Transport"/> was chosen, for -Verbose ("-Transport Ssm", "no key found and its SSM agent is online").</summary>
        public string TransportReason { get; init; } = "";

        /// <summary>How long one command may run unless the caller says otherwise.</summary>
        public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(10);

        /// <summary>The name used for this server in messages: the friendly name, else the address.</summary>
        public string Label => string.IsNullOrEmpty(ServerName) ? Address : ServerName;

        /// <summary>The form used in known_hosts and ssh messages: <c>host</c> on port 22, else <c>[host]:port</c>.</summary>
        public string KnownHostsName => KnownHosts.HostName(Address, Port);

        public override string ToString() => Transport == RemoteTransport.Ssm ? $"ssm:{InstanceId} ({Label})" : $"{User}@{Address}:{Port} ({Label})";
    }
}

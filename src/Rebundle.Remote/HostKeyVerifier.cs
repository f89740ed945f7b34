using Rebundle.Errors;

namespace Rebundle.Remote
{
    /// <summary>What to do with the host key a server presented.</summary>
    public sealed record HostKeyDecision
    {
        public bool Accept { get; init; }

        /// <summary>The presented key's fingerprint, <c>SHA256:…</c>.</summary>
        public string Fingerprint { get; init; } = "";

        /// <summary>A known_hosts line to append (a new key trusted with TrustNewHostKey), else null.</summary>
        public string? LineToRemember { get; init; }

        /// <summary>Why the key was refused, ready to throw; null when accepted.</summary>
        public TtmException? Rejection { get; init; }
    }

    /// <summary>
    /// The host-key policy, decided without I/O: pinned fingerprints when given (the key must be
    /// one of them), else the known_hosts file. An unknown key is refused unless the operator
    /// trusts new keys; a changed or revoked key is always refused.
    /// </summary>
    public static class HostKeyVerifier
    {
        /// <param name="knownHostsText">The known_hosts file's text, or null when it does not exist.</param>
        public static HostKeyDecision Decide(SshConnectionSettings settings, string? knownHostsText, byte[] presentedKey)
        {
            var fingerprint = SshKeyBlob.Fingerprint(presentedKey);
            var keyType = SshKeyBlob.DisplayType(presentedKey);
            var who = $"{settings.Label} ({settings.KnownHostsName})";

            var pinned = settings.HostKeyFingerprints.Select(SshKeyBlob.NormalizeFingerprint).Where(f => f != null).ToList();
            if (settings.HostKeyFingerprints.Count > 0)
            {
                if (pinned.Contains(fingerprint)) return Accepted(fingerprint);
                return Rejected(fingerprint, settings,
                    $"The host key of {who} does not match the pinned fingerprint ({string.Join(", ", settings.HostKeyFingerprints)}). " +
                    $"It presented {keyType} key {fingerprint}. If the server was rebuilt and that is its new key, pass -HostKeyFingerprint {fingerprint}; otherwise do not connect.");
            }

            var file = settings.KnownHostsFile ?? "(no known-hosts file)";
            var match = KnownHosts.Parse(knownHostsText).Check(settings.Address, settings.Port, presentedKey, out var line);
            switch (match)
            {
                case HostKeyMatch.Known:
                    return Accepted(fingerprint);
                case HostKeyMatch.Revoked:
                    return Rejected(fingerprint, settings,
                        $"The host key of {who} ({keyType} {fingerprint}) is marked @revoked in {file} line {line}. Do not connect; find out why the server presents a revoked key.");
                case HostKeyMatch.Changed:
                    return Rejected(fingerprint, settings,
                        $"The host key of {who} has CHANGED: it presented {keyType} key {fingerprint}, but {file} line {line} lists a different key. " +
                        "This happens when a server is replaced on the same address, and also when someone intercepts the connection. " +
                        $"If the server was replaced, remove the old entry with: ssh-keygen -R '{settings.KnownHostsName}' -f '{file}', then run again with -TrustNewHostKey, " +
                        $"or pass -HostKeyFingerprint {fingerprint}.");
                default:
                    if (settings.TrustNewHostKey)
                        return Accepted(fingerprint) with { LineToRemember = KnownHosts.Line(settings.Address, settings.Port, presentedKey) };
                    return Rejected(fingerprint, settings,
                        $"The host key of {who} is not known: {file} has no entry for it. It presented {keyType} key {fingerprint}. " +
                        $"If that is the server's key (on the server: ssh-keygen -lf /etc/ssh/ssh_host_{keyType.ToLowerInvariant()}_key.pub), " +
                        $"run again with -TrustNewHostKey to add it to the known-hosts file, or pass -HostKeyFingerprint {fingerprint}.");
            }
        }

        private static HostKeyDecision Accepted(string fingerprint) => new HostKeyDecision { Accept = true, Fingerprint = fingerprint };

        private static HostKeyDecision Rejected(string fingerprint, SshConnectionSettings settings, string message) => new HostKeyDecision
        {
            Fingerprint = fingerprint,
            Rejection = new TtmException(TtmErrorCode.SshHostKeyRejected, message, settings.Label),
        };
    }
}

using System.IO;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security;
using Rebundle.Errors;
using Rebundle.Remote;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Rebundle.Ssh
{
    /// <summary>
    /// Opens SSH.NET connections: private-key authentication (PEM or OpenSSH keys, with a
    /// passphrase) and host-key verification by <see cref="HostKeyVerifier"/> inside SSH.NET's
    /// HostKeyReceived event, so nothing is sent to an unverified server.
    /// </summary>
    public sealed class SshNetShellFactory : IRemoteShellFactory
    {
        /// <summary>Serialises reading and appending the known-hosts file across parallel connections.</summary>
        private static readonly object KnownHostsGate = new object();

        public IRemoteShell Connect(SshConnectionSettings settings, CancellationToken cancellation)
        {
            var key = LoadKey(settings);
            var connection = new ConnectionInfo(settings.Address, settings.Port, settings.User, new PrivateKeyAuthenticationMethod(settings.User, key))
            {
                Timeout = settings.ConnectTimeout,
            };
            var client = new SshClient(connection) { KeepAliveInterval = TimeSpan.FromSeconds(15) };
            TtmException? rejection = null;
            client.HostKeyReceived += (_, e) =>
            {
                try
                {
                    rejection = VerifyHostKey(settings, e.HostKey);
                }
                catch (Exception error) when (error is IOException || error is UnauthorizedAccessException)
                {
                    // Never let an unreadable file turn into trust: refuse, and say which file.
                    rejection = new TtmException(TtmErrorCode.SshHostKeyRejected,
                        $"Could not check the host key of {settings.Label}: the known-hosts file {settings.KnownHostsFile} cannot be read or written ({error.Message}). Fix its permissions, or pass -KnownHostsFile or -HostKeyFingerprint.",
                        settings.Label, error);
                }

                e.CanTrust = rejection == null;
            };

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(settings.ConnectTimeout);
            try
            {
                client.ConnectAsync(timeout.Token).GetAwaiter().GetResult();
                return new SshNetShell(client, settings);
            }
            catch (Exception error)
            {
                client.Dispose();
                if (rejection != null) throw rejection;
                if (error is OperationCanceledException && cancellation.IsCancellationRequested) throw;
                throw SshErrors.Connecting(settings, error);
            }
        }

        private static TtmException? VerifyHostKey(SshConnectionSettings settings, byte[] presentedKey)
        {
            lock (KnownHostsGate)
            {
                var path = settings.KnownHostsFile;
                var text = path != null && File.Exists(path) ? File.ReadAllText(path) : null;
                var decision = HostKeyVerifier.Decide(settings, text, presentedKey);
                if (decision.Accept && decision.LineToRemember != null && path != null)
                {
                    var folder = Path.GetDirectoryName(Path.GetFullPath(path));
                    if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
                    var separator = text != null && text.Length > 0 && !text.EndsWith("\n", StringComparison.Ordinal) ? "\n" : "";
                    File.AppendAllText(path, separator + decision.LineToRemember + "\n");
                }

                return decision.Rejection;
            }
        }

        private static PrivateKeyFile LoadKey(SshConnectionSettings settings)
        {
            if (!File.Exists(settings.KeyFile))
                throw new TtmException(TtmErrorCode.SshKeyNotFound,
                    $"The private key file {settings.KeyFile} does not exist. Pass the key with -KeyFile.", settings.Label);
            var passphrase = Reveal(settings.Passphrase);
            try
            {
                return passphrase == null ? new PrivateKeyFile(settings.KeyFile) : new PrivateKeyFile(settings.KeyFile, passphrase);
            }
            catch (SshPassPhraseNullOrEmptyException)
            {
                throw new TtmException(TtmErrorCode.SshKeyNotFound,
                    $"The private key {settings.KeyFile} is protected by a passphrase. Pass it with -KeyPassphrase (a SecureString), or run interactively to be asked for it.", settings.Label);
            }
            catch (Exception error) when (error is SshException || error is InvalidOperationException || error is System.Security.Cryptography.CryptographicException || error is ArgumentException || error is NotSupportedException)
            {
                throw new TtmException(TtmErrorCode.SshKeyNotFound,
                    $"Could not read the private key {settings.KeyFile}: " +
                    (passphrase != null ? "the passphrase is wrong or " : "") +
                    "the file is not a PEM or OpenSSH private key. Check -KeyFile" + (passphrase != null ? " and -KeyPassphrase." : "."), settings.Label);
            }
        }

        /// <summary>The passphrase as the string SSH.NET needs, for as short a time as possible. Never logged.</summary>
        private static string? Reveal(SecureString? secret)
        {
            if (secret == null || secret.Length == 0) return null;
            var pointer = Marshal.SecureStringToGlobalAllocUnicode(secret);
            try
            {
                return Marshal.PtrToStringUni(pointer);
            }
            finally
            {
                Marshal.ZeroFreeGlobalAllocUnicode(pointer);
            }
        }
    }
}

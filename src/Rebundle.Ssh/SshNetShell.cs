using System;
using System.Diagnostics;
using System.Threading;
using Rebundle.Remote;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Rebundle.Ssh
{
    /// <summary>One open SSH.NET connection; each <see cref="Run"/> is one exec channel.</summary>
    internal sealed class SshNetShell : IRemoteShell
    {
        private readonly SshClient _client;
        private readonly SshConnectionSettings _settings;

        public SshNetShell(SshClient client, SshConnectionSettings settings)
        {
            _client = client;
            _settings = settings;
        }

        public string Host => $"{_settings.User}@{_settings.Address}:{_settings.Port}";

        public SshCommandResult Run(string command, TimeSpan timeout, CancellationToken cancellation)
        {
            cancellation.ThrowIfCancellationRequested();
            if (!_client.IsConnected) throw SshErrors.Dropped(_settings, command, null);
            var watch = Stopwatch.StartNew();
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            deadline.CancelAfter(timeout);
            using var ssh = _client.CreateCommand(command);
            try
            {
                ssh.ExecuteAsync(deadline.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                throw SshErrors.TimedOut(_settings, command, timeout);
            }
            catch (SshOperationTimeoutException)
            {
                throw SshErrors.TimedOut(_settings, command, timeout);
            }
            catch (Exception error) when (error is SshConnectionException || error is SshException || error is ObjectDisposedException || error is System.Net.Sockets.SocketException)
            {
                throw SshErrors.Dropped(_settings, command, error);
            }

            if (ssh.ExitStatus == null && ssh.ExitSignal == null)
                throw SshErrors.Dropped(_settings, command, null); // the channel closed without a status: the connection went away
            return new SshCommandResult
            {
                Server = _settings.ServerName,
                Farm = _settings.Farm,
                Address = _settings.Address,
                Command = command,
                ExitCode = ssh.ExitStatus ?? -1,
                StdOut = ssh.Result,
                StdErr = ssh.Error,
                Duration = watch.Elapsed,
            };
        }

        public void Dispose()
        {
            try
            {
                if (_client.IsConnected) _client.Disconnect();
            }
            catch (Exception)
            {
                // Already gone (a reboot, a dropped link): nothing to close.
            }

            _client.Dispose();
        }
    }
}

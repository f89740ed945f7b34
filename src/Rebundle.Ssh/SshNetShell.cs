using System.Diagnostics;
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

        /// <summary>How long killing a stopped command on the server may take (TERM, 3 s grace, KILL).</summary>
        private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

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
            var run = StoppableCommand.For(command);
            var watch = Stopwatch.StartNew();
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            deadline.CancelAfter(timeout);
            using var ssh = _client.CreateCommand(run.Text);
            try
            {
                ssh.ExecuteAsync(deadline.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                throw SshErrors.TimedOut(_settings, run, timeout, Stop(run));
            }
            catch (OperationCanceledException)
            {
                Stop(run); // Ctrl+C: nothing is left running on the server either
                throw;
            }
            catch (SshOperationTimeoutException)
            {
                throw SshErrors.TimedOut(_settings, run, timeout, Stop(run));
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

        /// <summary>
        /// Kills what is left of <paramref name="run"/> on the server, over a second channel of
        /// the same connection. Returns null when the server confirmed nothing is left, else why
        /// that is not known (for the error message; the caller's error is the one that matters).
        /// </summary>
        private string? Stop(StoppableCommand run)
        {
            try
            {
                if (!_client.IsConnected) return "the connection was gone";
                using var deadline = new CancellationTokenSource(StopTimeout);
                using var stop = _client.CreateCommand(run.StopScript);
                stop.ExecuteAsync(deadline.Token).GetAwaiter().GetResult();
                var result = new SshCommandResult { ExitCode = stop.ExitStatus ?? -1, StdOut = stop.Result };
                if (StoppableCommand.ConfirmsStop(result)) return null;
                var said = (stop.Result + " " + stop.Error).Trim();
                return said.Length > 0 ? said : $"the stop script exited with {result.ExitCode}";
            }
            catch (Exception error)
            {
                // Best effort: the timeout or Ctrl+C is what the caller reports; this only says
                // whether the command may still be running.
                return error is OperationCanceledException ? $"stopping took longer than {StopTimeout.TotalSeconds:0}s" : error.Message;
            }
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

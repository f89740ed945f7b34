using System.Net.Sockets;
using Rebundle.Errors;
using Rebundle.Remote;
using Renci.SshNet.Common;

namespace Rebundle.Ssh
{
    /// <summary>Turns SSH.NET and socket failures into TtmExceptions that say what to do.</summary>
    internal static class SshErrors
    {
        public static TtmException Connecting(SshConnectionSettings s, Exception error)
        {
            var where = $"{s.Label} ({s.User}@{s.Address}:{s.Port})";
            var socket = Find<SocketException>(error);
            if (error is OperationCanceledException || error is SshOperationTimeoutException || socket?.SocketErrorCode == SocketError.TimedOut)
                return new TtmException(TtmErrorCode.SshTimeout,
                    $"Connecting to {where} took longer than {s.ConnectTimeout.TotalSeconds:0}s. Check that the server is running and that port {s.Port} is open to you (security group, firewall); raise -ConnectTimeout for slow links.", s.Label, error);
            if (error is SshAuthenticationException)
                return new TtmException(TtmErrorCode.SshConnectionFailed,
                    $"{where} refused the key {s.KeyFile} for user {s.User}. Check -User (Ubuntu images use 'ubuntu', Scalr servers 'root') and that -KeyFile is the farm's key.", s.Label, error);
            if (socket != null)
                return new TtmException(TtmErrorCode.SshConnectionFailed,
                    $"Could not connect to {where}: {Describe(socket.SocketErrorCode)}. Check that the server is running and that port {s.Port} is open to you.", s.Label, error);
            return new TtmException(TtmErrorCode.SshConnectionFailed,
                $"The SSH connection to {where} failed: {error.Message}. Check that the server is up and sshd is running.", s.Label, error);
        }

        public static TtmException Dropped(SshConnectionSettings s, string command, Exception? error) =>
            new TtmException(TtmErrorCode.SshConnectionFailed,
                $"The connection to {s.Label} ({s.Address}:{s.Port}) dropped while running '{Shorten(command)}'. The server may have rebooted or crashed; whether the command finished is unknown, so check the server before running it again.",
                s.Label, error);

        /// <param name="notStopped">Null when the server confirmed the command was killed, else why that is not known.</param>
        public static TtmException TimedOut(SshConnectionSettings s, StoppableCommand run, TimeSpan timeout, string? notStopped) =>
            new TtmException(TtmErrorCode.SshTimeout,
                notStopped == null
                    ? $"'{Shorten(run.Command)}' on {s.Label} did not finish within {timeout.TotalSeconds:0}s and was stopped on the server (its processes were killed). Raise -Timeout if it needs longer."
                    : $"'{Shorten(run.Command)}' on {s.Label} did not finish within {timeout.TotalSeconds:0}s, and stopping it on the server was not confirmed ({notStopped}): it may still be running. Check on the server with: {run.FindCommand}. Raise -Timeout if it needs longer.",
                s.Label);

        internal static string Shorten(string command)
        {
            var oneLine = command.Replace('\n', ' ');
            return oneLine.Length <= 80 ? oneLine : oneLine.Substring(0, 77) + "...";
        }

        private static string Describe(SocketError code) => code switch
        {
            SocketError.ConnectionRefused => "connection refused (nothing listens on that port)",
            SocketError.HostUnreachable => "host unreachable",
            SocketError.NetworkUnreachable => "network unreachable",
            SocketError.HostNotFound => "host name not found",
            _ => code.ToString(),
        };

        private static T? Find<T>(Exception? error) where T : Exception
        {
            for (var e = error; e != null; e = e.InnerException)
                if (e is T found) return found;
            return null;
        }
    }
}

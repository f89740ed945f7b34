namespace Rebundle.Remote
{
    /// <summary>
    /// One open connection to one server that runs shell commands. The SSH.NET implementation
    /// lives in Rebundle.Ssh; the core's OS-update and verification logic only sees this.
    /// </summary>
    public interface IRemoteShell : IDisposable
    {
        /// <summary>Where the shell is connected, for messages: <c>user@address:port</c>.</summary>
        string Host { get; }

        /// <summary>
        /// Runs <paramref name="command"/> through the user's shell and waits for it to finish.
        /// A non-zero exit is a normal result, not an exception. Throws a TtmException with
        /// <c>SshTimeout</c> after <paramref name="timeout"/>, with <c>SshConnectionFailed</c>
        /// when the connection drops, and OperationCanceledException when cancelled.
        /// </summary>
        SshCommandResult Run(string command, TimeSpan timeout, CancellationToken cancellation);
    }

    /// <summary>Opens shells. Each call makes a new connection (used again after a reboot).</summary>
    public interface IRemoteShellFactory
    {
        /// <summary>
        /// Connects and authenticates. Throws a TtmException: <c>SshKeyNotFound</c>,
        /// <c>SshHostKeyRejected</c>, <c>SshConnectionFailed</c> or <c>SshTimeout</c>.
        /// </summary>
        IRemoteShell Connect(SshConnectionSettings settings, CancellationToken cancellation);
    }
}

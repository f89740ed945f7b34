namespace Rebundle.Remote
{
    /// <summary>What one command did on one server: what Invoke-TtmSsh outputs per server.</summary>
    public sealed record SshCommandResult
    {
        /// <summary>The server's friendly name, e.g. <c>RailsAppServer.1</c>.</summary>
        public string Server { get; init; } = "";

        public string Farm { get; init; } = "";

        public string Address { get; init; } = "";

        public string Command { get; init; } = "";

        /// <summary>The exit status; -1 when the command ended by a signal without one.</summary>
        public int ExitCode { get; init; }

        public string StdOut { get; init; } = "";

        public string StdErr { get; init; } = "";

        public TimeSpan Duration { get; init; }

        /// <summary>How the command reached the server: Ssh or Ssm.</summary>
        public RemoteTransport Transport { get; init; } = RemoteTransport.Ssh;

        /// <summary>
        /// The output is cut: SSM answers at most 24,000 characters of each stream, and no S3
        /// bucket was named to read the whole of it from. Never set over SSH.
        /// </summary>
        public bool OutputTruncated { get; init; }

        public bool Succeeded => ExitCode == 0;

        public override string ToString() => $"{Server}: exit {ExitCode}";
    }
}

using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Remote
{
    /// <summary>
    /// A backend whose servers can be reached without SSH, over AWS Systems Manager Run Command
    /// (AWS). Its shells run the same commands as SSH's, with the same results and errors. Remote
    /// commands are not fleet changes (the remote cmdlets' -WhatIf and prompts guard them), so the
    /// audit wrapper forwards this as it is.
    /// </summary>
    public interface ISsmTransport : IUnauditedCapability
    {
        /// <summary>
        /// Shells over SSM Run Command, one per server (Connect fails with TtmServerUnreachable when
        /// the agent is not online). <paramref name="outputBucket"/>: an S3 bucket SSM writes whole
        /// outputs to, read back beyond its 24,000 characters (null: such output is marked truncated).
        /// </summary>
        IRemoteShellFactory Shells(string? outputBucket);

        /// <summary>Whether the server's SSM agent is online now (read once per call for every server asked before, in one DescribeInstanceInformation).</summary>
        bool IsOnline(Server server);

        /// <summary>Reads the agents of these servers in one call, so IsOnline answers from it.</summary>
        void ReadAgents(IReadOnlyCollection<Server> servers, CancellationToken cancellation);
    }

    /// <summary>Opens each server's shell over its transport: SSH, or SSM when the settings say so.</summary>
    public sealed class TransportShellFactory : IRemoteShellFactory
    {
        private readonly IRemoteShellFactory _ssh;
        private readonly IRemoteShellFactory? _ssm;

        public TransportShellFactory(IRemoteShellFactory ssh, IRemoteShellFactory? ssm)
        {
            _ssh = ssh;
            _ssm = ssm;
        }

        public IRemoteShell Connect(SshConnectionSettings settings, CancellationToken cancellation)
        {
            if (settings.Transport == RemoteTransport.Ssh) return _ssh.Connect(settings, cancellation);
            return (_ssm ?? throw new TtmException(TtmErrorCode.InvalidArgument,
                $"{settings.Label} was to be reached over SSM, which only an AWS connection has. Use -Transport Ssh.", settings.Label)).Connect(settings, cancellation);
        }
    }
}

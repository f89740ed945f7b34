using System.IO;
using System.Security;
using Rebundle.Rebundling;
using Rebundle.Remote;
using Rebundle.Runbook;

namespace Rebundle.Ssh
{
    /// <summary>
    /// The SSH wiring the remote cmdlets share, in one place: SSH.NET shells, this machine's
    /// home folder and files for the farm-key convention and known_hosts, the passphrase asked
    /// once per key, and the throttle. The cmdlets hand it the operator's choices and get the
    /// pure pieces of Rebundle.Remote back, ready to run.
    /// </summary>
    public sealed class SshWorkFactory
    {
        /// <summary>How long each of Invoke-TtmRebundle's checks may run.</summary>
        public static readonly TimeSpan RebundleCheckTimeout = TimeSpan.FromMinutes(1);

        private readonly IRunbookReporter _reporter;
        private readonly int _throttleLimit;
        private readonly Func<string, SecureString?> _askForPassphrase;
        private readonly ISsmTransport? _ssm;
        private readonly string? _outputBucket;

        /// <param name="askForPassphrase">Asks for a key file's passphrase (null: the key needs none).</param>
        /// <param name="ssm">The backend's Systems Manager (AWS), the other transport; null where there is none.</param>
        /// <param name="outputBucket">-OutputBucket: where SSM writes whole outputs.</param>
        public SshWorkFactory(IRunbookReporter reporter, int throttleLimit, Func<string, SecureString?> askForPassphrase, ISsmTransport? ssm = null, string? outputBucket = null)
        {
            _reporter = reporter;
            _throttleLimit = throttleLimit;
            _askForPassphrase = askForPassphrase;
            _ssm = ssm;
            _outputBucket = outputBucket;
        }

        /// <summary>Each server's shell over its transport: SSH.NET, or SSM Run Command.</summary>
        private IRemoteShellFactory Shells() => new TransportShellFactory(new SshNetShellFactory(), _ssm?.Shells(_outputBucket));

        public static string HomeDirectory => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

        /// <summary>OpenSSH's own: ~/.ssh/known_hosts.</summary>
        public static string DefaultKnownHostsFile => Path.Combine(HomeDirectory, ".ssh", "known_hosts");

        /// <summary>Servers → connection settings; keys by -KeyFile or the farm-key convention under ~/.ssh.</summary>
        public SshTargets Targets(SshOptions options) =>
            new SshTargets(options, new KeyFileResolver(HomeDirectory, File.Exists), _askForPassphrase) { Ssm = _ssm };

        /// <summary>Runs one piece of work on many servers over SSH.NET, at most the throttle at once.</summary>
        public RemoteRunner Runner() => new RemoteRunner(Shells(), _reporter, _throttleLimit);

        /// <summary>
        /// Invoke-TtmRebundle's remote work: the OS update (which reboots and waits for the server)
        /// and the <paramref name="checks"/>, over SSH.NET.
        /// </summary>
        public IServerPreparation RebundlePreparation(SshOptions options, IReadOnlyList<ServerCheck> checks, IClock clock) =>
            new RemoteServerPreparation(
                Shells(),
                Targets(options),
                new OsUpdateOptions { Reboot = true },
                new ServerVerifier(checks, RebundleCheckTimeout),
                clock,
                _reporter,
                _throttleLimit);
    }
}

using System.Collections.ObjectModel;
using System.IO;
using System.Management.Automation.Host;
using System.Security;
using Rebundle.Remote;
using Rebundle.Ssh;

namespace Rebundle.PowerShell.Remote
{
    /// <summary>
    /// What every cmdlet that works over SSH shares (Invoke-TtmSsh, Update-TtmServerOs,
    /// Test-TtmServer, Invoke-TtmRebundle): the SSH parameters, turning each server into
    /// connection settings (address, key file, host-key policy), asking for a key's passphrase
    /// once, and running the work on many servers in parallel with results written on the
    /// pipeline thread.
    /// </summary>
    public abstract class TtmRemoteCmdlet : TtmCmdlet
    {
        /// <summary>The private key; default ~/.ssh/FARM-&lt;farmId&gt;.&lt;region&gt;.private.pem for each server's farm.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? KeyFile { get; set; }

        /// <summary>The key's passphrase. Asked for (hidden) when the key needs one and this is not given.</summary>
        [Parameter]
        public SecureString? KeyPassphrase { get; set; }

        /// <summary>The SSH user; Scalr servers take root, Ubuntu images ubuntu.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string User { get; set; } = SshConnectionSettings.DefaultUser;

        [Parameter]
        [ValidateRange(1, 65535)]
        public int Port { get; set; } = SshConnectionSettings.DefaultPort;

        /// <summary>Connect here instead of the server's public (else private) IP, e.g. through a tunnel.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Address { get; set; }

        /// <summary>How many servers are worked on at once.</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = RemoteRunner.DefaultThrottleLimit;

        /// <summary>The OpenSSH known_hosts file host keys are checked against; default ~/.ssh/known_hosts.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? KnownHostsFile { get; set; }

        /// <summary>Pinned host-key fingerprints (SHA256:…, as ssh-keygen -l prints them); the known-hosts file is then not consulted.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? HostKeyFingerprint { get; set; }

        /// <summary>Accept a host key the known-hosts file does not list, and add it there. A changed key is still refused.</summary>
        [Parameter]
        public SwitchParameter TrustNewHostKey { get; set; }

        /// <summary>How long connecting may take.</summary>
        [Parameter]
        [ValidateTimeSpanRange("0:00:01", "1:00:00")]
        public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>Ssh or Ssm (AWS Systems Manager Run Command). Default: SSH where a key is found, else SSM where the server's agent is online (AWS).</summary>
        [Parameter]
        public RemoteTransport? Transport { get; set; }

        /// <summary>An S3 bucket SSM writes each command's whole output to, read back when it is longer than SSM's 24,000 characters.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? OutputBucket { get; set; }

        /// <summary>The transport when -Transport is not given; null: chosen per server.</summary>
        protected virtual RemoteTransport? DefaultTransport => null;

        private RemoteTransport? ChosenTransport => Transport ?? DefaultTransport;

        /// <summary>The backend's Systems Manager (AWS), or null.</summary>
        private ISsmTransport? Ssm => Fleet.Backend.Capability<ISsmTransport>();

        protected override void Begin()
        {
            RequireSeconds(ConnectTimeout, "ConnectTimeout");
            var fingerprints = HostKeyFingerprint ?? Array.Empty<string>();
            var bad = fingerprints.Where(f => SshKeyBlob.NormalizeFingerprint(f) == null).ToList();
            if (bad.Count > 0)
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    $"-HostKeyFingerprint takes SHA256 fingerprints as ssh-keygen -l prints them (SHA256:…); got {string.Join(", ", bad)}.", string.Join(", ", bad));
        }

        /// <summary>A TimeSpan parameter must be at least a second (a bare number would be ticks).</summary>
        protected static void RequireSeconds(TimeSpan value, string parameter)
        {
            if (value < TimeSpan.FromSeconds(1))
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    $"-{parameter} must be at least one second; got {value}. Give a TimeSpan such as '00:05:00' or (New-TimeSpan -Minutes 5).", parameter);
        }

        /// <summary>
        /// Asks before <paramref name="action"/> runs on <paramref name="server"/>: -WhatIf and
        /// -Confirm as usual, and a server of a protected farm (Production) asks again unless
        /// -Force or -Confirm:$false. A session that cannot ask (-NonInteractive, a host without
        /// a UI) is refused with TtmApprovalRequired instead of the engine's bare prompt error,
        /// so scripts see a Ttm id and what to pass.
        /// </summary>
        protected bool ShouldRunOn(Server server, string action, bool force)
        {
            var target = $"server {server.Name} ({Address ?? server.Address ?? "no address"}) of farm {server.Farm}";
            try
            {
                // Every server is confirmed before any is worked on, so a refusal stops the whole command.
                return ShouldChange(target, action, new[] { server.Farm }, force, alwaysAsk: false, stopWhenRefused: true);
            }
            catch (Exception e) when (e is InvalidOperationException || e is HostException || e is NotImplementedException)
            {
                var why = Fleet.Names.IsProtectedFarm(server.Farm) && !force
                    ? $"{server.Farm} is a protected farm and this session cannot ask for approval. Pass -Force (or -Confirm:$false) to approve it"
                    : "-Confirm (or $ConfirmPreference) asks for confirmation and this session cannot ask. Pass -Confirm:$false to go ahead";
                throw new TtmException(TtmErrorCode.ApprovalRequired,
                    $"Nothing was run. \"{action}\" on {server.Name} of farm {server.Farm} needs approval: {why}, or -WhatIf to see what would run.", server.Farm, e);
            }
        }

        /// <summary>
        /// Connection settings per server; a server that cannot be reached (no address, no key)
        /// gets its error written here and is left out.
        /// </summary>
        protected List<(Server Server, SshConnectionSettings Settings)> Targets(TimeSpan commandTimeout, IEnumerable<Server> servers)
        {
            var targets = SshWork().Targets(Options(commandTimeout));
            var list = new List<(Server, SshConnectionSettings)>();
            var all = servers.ToList();
            ReadAgents(all);
            foreach (var server in all)
            {
                try
                {
                    var settings = targets.For(server);
                    WriteVerbose($"{server.Name} of farm {server.Farm}: over {settings.Transport} ({settings.TransportReason}).");
                    list.Add((server, settings));
                }
                catch (TtmException e)
                {
                    WriteTtmError(e, server);
                }
            }

            return list;
        }

        /// <summary>
        /// The SSM agents of every server in one read, when SSM may be chosen. With no -Transport
        /// a refused read (no ssm: permissions) only means SSM is not chosen.
        /// </summary>
        private void ReadAgents(IReadOnlyCollection<Server> servers)
        {
            if (Ssm == null || ChosenTransport == RemoteTransport.Ssh || servers.Count == 0) return;
            try
            {
                Ssm.ReadAgents(servers, Cancellation);
            }
            catch (TtmException e) when (ChosenTransport == null)
            {
                WriteVerbose($"SSM agents could not be read, so SSM is not chosen: {e.Message}");
            }
        }

        /// <summary>The SSH parameters as the core takes them.</summary>
        protected SshOptions Options(TimeSpan commandTimeout) => new SshOptions
        {
            KeyFile = KeyFile != null ? GetUnresolvedProviderPathFromPSPath(KeyFile) : null,
            Passphrase = KeyPassphrase,
            User = User,
            Port = Port,
            Address = Address,
            KnownHostsFile = KnownHostsFile != null ? GetUnresolvedProviderPathFromPSPath(KnownHostsFile) : SshWorkFactory.DefaultKnownHostsFile,
            HostKeyFingerprints = HostKeyFingerprint ?? Array.Empty<string>(),
            TrustNewHostKey = TrustNewHostKey,
            ConnectTimeout = ConnectTimeout,
            CommandTimeout = commandTimeout,
            Transport = ChosenTransport,
        };

        /// <summary>
        /// Runs <paramref name="work"/> on every target, at most -ThrottleLimit at once, and
        /// hands each outcome back on the pipeline thread with the server it belongs to.
        /// </summary>
        protected IEnumerable<(Server Server, RemoteOutcome<T> Outcome)> RunOnAll<T>(
            string activity, List<(Server Server, SshConnectionSettings Settings)> targets, Func<RemoteWork, T> work)
        {
            var servers = targets.ToDictionary(t => t.Settings, t => t.Server);
            var runner = SshWork().Runner();
            foreach (var outcome in runner.Run(activity, targets.Select(t => t.Settings).ToList(), work, Cancellation))
                yield return (servers[outcome.Target], outcome);
        }

        /// <summary>The shared SSH wiring (Rebundle.Ssh), with this cmdlet's reporter, -ThrottleLimit and passphrase prompt.</summary>
        protected SshWorkFactory SshWork() => new SshWorkFactory(Reporter, ThrottleLimit, AskForPassphrase, Ssm, OutputBucket);

        /// <summary>Asks, hidden, for the passphrase of a key that needs one; null for a key that does not.</summary>
        protected SecureString? AskForPassphrase(string keyFile)
        {
            string text;
            try
            {
                text = File.ReadAllText(keyFile);
            }
            catch (IOException)
            {
                return null; // the connection reports the unreadable key
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }

            if (!PrivateKeyText.NeedsPassphrase(text)) return null;
            try
            {
                // Prompt (not Write + ReadLine) so a non-interactive host refuses before printing anything.
                var field = new FieldDescription("Passphrase");
                field.SetParameterType(typeof(SecureString));
                var answers = Host.UI.Prompt("SSH key passphrase", $"The key {keyFile} is protected by a passphrase.", new Collection<FieldDescription> { field });
                return answers != null && answers.TryGetValue("Passphrase", out var answer) ? answer?.BaseObject as SecureString : null;
            }
            catch (Exception e) when (e is PSInvalidOperationException || e is NotImplementedException || e is HostException || e is InvalidOperationException)
            {
                throw new TtmException(TtmErrorCode.SshKeyNotFound,
                    $"The key {keyFile} is protected by a passphrase and this session cannot ask for it. Pass it with -KeyPassphrase (Read-Host -AsSecureString).", keyFile);
            }
        }
    }
}

using Rebundle.Remote;

namespace Rebundle.PowerShell.Remote
{
    /// <summary>
    /// What Invoke-TtmSsh and Update-TtmServerOs share beyond the SSH parameters: the servers
    /// piped in. (Test-TtmServer takes them the same way, on top of the check parameters.)
    /// </summary>
    public abstract class TtmSshCmdlet : TtmRemoteCmdlet
    {
        private readonly PipedServers _servers = new PipedServers();

        /// <summary>A server from Get-TtmServer.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public Server? InputObject { get; set; }

        protected override void Process() => _servers.Add(InputObject);

        /// <summary>The servers piped in, in order, without repeats.</summary>
        protected IReadOnlyList<Server> Servers => _servers.All;

        /// <summary>Connection settings for every server piped in; see <see cref="TtmRemoteCmdlet.Targets(TimeSpan, IEnumerable{Server})"/>.</summary>
        protected List<(Server Server, SshConnectionSettings Settings)> Targets(TimeSpan commandTimeout) => Targets(commandTimeout, Servers);
    }
}

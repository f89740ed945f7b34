using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.PowerShell.Infrastructure;
using Rebundle.Remote;
using Rebundle.Ssh;

namespace Rebundle.PowerShell.Remote
{
    /// <summary>
    /// What Invoke-TtmSsh, Update-TtmServerOs and Test-TtmServer share beyond the SSH
    /// parameters: the servers piped in.
    /// </summary>
    public abstract class TtmSshCmdlet : TtmRemoteCmdlet
    {
        private readonly List<Server> _servers = new List<Server>();

        /// <summary>A server from Get-TtmServer.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public Server? InputObject { get; set; }

        protected override void Process()
        {
            if (InputObject != null) _servers.Add(InputObject);
        }

        /// <summary>The servers piped in, in order, without repeats.</summary>
        protected IReadOnlyList<Server> Servers => _servers.GroupBy(s => s.Farm + "/" + s.Id).Select(g => g.First()).ToList();

        /// <summary>Connection settings for every server piped in; see <see cref="TtmRemoteCmdlet.Targets(TimeSpan, IEnumerable{Server})"/>.</summary>
        protected List<(Server Server, SshConnectionSettings Settings)> Targets(TimeSpan commandTimeout) => Targets(commandTimeout, Servers);
    }
}

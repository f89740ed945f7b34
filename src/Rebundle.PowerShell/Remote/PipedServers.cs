namespace Rebundle.PowerShell.Remote
{
    /// <summary>
    /// The servers piped into a remote cmdlet, collected in ProcessRecord and worked on together
    /// in EndProcessing (every server confirmed before any is connected to).
    /// </summary>
    internal sealed class PipedServers
    {
        private readonly List<Server> _servers = new List<Server>();

        public void Add(Server? server)
        {
            if (server != null) _servers.Add(server);
        }

        /// <summary>The servers piped in, in order, without repeats.</summary>
        public IReadOnlyList<Server> All => _servers.GroupBy(s => s.Farm + "/" + s.Id).Select(g => g.First()).ToList();
    }
}

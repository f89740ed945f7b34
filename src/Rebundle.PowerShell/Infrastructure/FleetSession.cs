using System.Collections.Concurrent;
using System.Management.Automation.Runspaces;

namespace Rebundle.PowerShell.Infrastructure
{
    /// <summary>
    /// The fleet each runspace is connected to. Keyed by runspace so two runspaces in one
    /// process (thread jobs, hosted runspaces) never share a connection by accident. A
    /// runspace's entry goes when the runspace closes, so a host that opens many (thread jobs,
    /// a web service) does not keep their fleets, leases and lease timers alive.
    /// </summary>
    internal static class FleetSession
    {
        private static readonly ConcurrentDictionary<Guid, FleetConnection> Connections = new ConcurrentDictionary<Guid, FleetConnection>();

        private static Guid Key => Runspace.DefaultRunspace?.InstanceId ?? Guid.Empty;

        public static FleetConnection? Current => Connections.TryGetValue(Key, out var connection) ? connection : null;

        /// <summary>How many runspaces hold a connection now (for tests of the clean-up).</summary>
        public static int Count => Connections.Count;

        public static void Set(FleetConnection connection)
        {
            var previous = Current;
            Connections[Key] = connection;
            Watch(Runspace.DefaultRunspace);
            // Tab can offer fleet names from now on (registered once per runspace).
            Completion.CompleterRegistration.EnsureRegistered();
            if (previous != null && !ReferenceEquals(previous, connection)) previous.Fleet.Dispose();
        }

        public static FleetConnection? Clear() => Forget(Key);

        private static FleetConnection? Forget(Guid runspace)
        {
            Connections.TryRemove(runspace, out var removed);
            removed?.Fleet.Dispose();
            return removed;
        }

        private static void Watch(Runspace? runspace)
        {
            if (runspace == null) return;
            runspace.StateChanged -= OnStateChanged; // at most one handler however often it connects
            runspace.StateChanged += OnStateChanged;
        }

        private static void OnStateChanged(object? sender, RunspaceStateEventArgs e)
        {
            var state = e.RunspaceStateInfo.State;
            if (!(sender is Runspace runspace) || (state != RunspaceState.Closed && state != RunspaceState.Broken)) return;
            runspace.StateChanged -= OnStateChanged;
            Completion.CompleterRegistration.Forget(runspace.InstanceId);
            try
            {
                Forget(runspace.InstanceId);
            }
            catch (Exception)
            {
                // Raised on the closing thread: a backend that fails to let go must not crash the host.
            }
        }
    }
}

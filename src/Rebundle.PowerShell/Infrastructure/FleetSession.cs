using System;
using System.Collections.Concurrent;
using System.Management.Automation.Runspaces;

namespace Rebundle.PowerShell.Infrastructure
{
    /// <summary>
    /// The fleet each runspace is connected to. Keyed by runspace so two runspaces in one
    /// process (thread jobs, hosted runspaces) never share a connection by accident.
    /// </summary>
    internal static class FleetSession
    {
        private static readonly ConcurrentDictionary<Guid, FleetConnection> Connections = new ConcurrentDictionary<Guid, FleetConnection>();

        private static Guid Key => Runspace.DefaultRunspace?.InstanceId ?? Guid.Empty;

        public static FleetConnection? Current => Connections.TryGetValue(Key, out var connection) ? connection : null;

        public static void Set(FleetConnection connection)
        {
            var previous = Current;
            Connections[Key] = connection;
            if (previous != null && !ReferenceEquals(previous, connection)) previous.Fleet.Dispose();
        }

        public static FleetConnection? Clear()
        {
            Connections.TryRemove(Key, out var removed);
            removed?.Fleet.Dispose();
            return removed;
        }
    }
}

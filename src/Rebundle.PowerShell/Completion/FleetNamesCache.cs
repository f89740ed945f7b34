using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Rebundle.PowerShell.Completion
{
    /// <summary>
    /// What Tab completes from: the farms, farm roles and roles of one connection, read at most
    /// once per <see cref="Lifetime"/> (30 s by default; $env:REBUNDLE_COMPLETION_CACHE_SECONDS
    /// changes it). A new connection starts a new cache, so Connect-TtmFleet is also "refresh".
    /// </summary>
    internal sealed class FleetNamesCache
    {
        private const double DefaultSeconds = 30;
        private static readonly ConditionalWeakTable<Fleet, FleetNamesCache> PerFleet = new ConditionalWeakTable<Fleet, FleetNamesCache>();

        private readonly Fleet _fleet;
        private readonly Cached<IReadOnlyList<Farm>> _farms = new Cached<IReadOnlyList<Farm>>();
        private readonly Cached<IReadOnlyList<FarmRole>> _farmRoles = new Cached<IReadOnlyList<FarmRole>>();
        private readonly Cached<IReadOnlyList<Role>> _roles = new Cached<IReadOnlyList<Role>>();

        private FleetNamesCache(Fleet fleet) => _fleet = fleet;

        public static FleetNamesCache For(Fleet fleet) => PerFleet.GetValue(fleet, f => new FleetNamesCache(f));

        public static TimeSpan Lifetime =>
            EnvironmentSeconds.Read("REBUNDLE_COMPLETION_CACHE_SECONDS", 0, EnvironmentSeconds.Longest) ?? TimeSpan.FromSeconds(DefaultSeconds);

        public IReadOnlyList<Farm> Farms => _farms.Get(() => _fleet.Backend.GetFarms());

        public IReadOnlyList<FarmRole> FarmRoles => _farmRoles.Get(() => _fleet.Backend.GetFarmRoles());

        public IReadOnlyList<Role> Roles => _roles.Get(() => _fleet.Backend.GetRoles());

        private sealed class Cached<T> where T : class
        {
            private readonly object _gate = new object();
            private T? _value;
            private long _readAt;

            public T Get(Func<T> read)
            {
                lock (_gate)
                {
                    var age = TimeSpan.FromSeconds((Stopwatch.GetTimestamp() - _readAt) / (double)Stopwatch.Frequency);
                    if (_value == null || age >= Lifetime)
                    {
                        _value = read();
                        _readAt = Stopwatch.GetTimestamp();
                    }
                    return _value;
                }
            }
        }
    }
}

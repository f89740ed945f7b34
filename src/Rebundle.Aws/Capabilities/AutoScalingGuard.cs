using Amazon.EC2.Model;
using Rebundle.Aws.Ec2;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Aws
{
    /// <summary>
    /// Instances of an Auto Scaling group (tag aws:autoscaling:groupName) belong to the group:
    /// it replaces whatever is terminated and launches from its own template. When the group is
    /// the farm role (ttm:auto-scaling-group), Rebundle launches and terminates through it
    /// (AwsScalingGroups); a group's servers in any other farm role are refused, since a recycle
    /// there would launch one unmanaged server and the group another. The tag is noted whenever
    /// instances are read, so refusing costs no call (a server this session never read is read
    /// first). Its lock guards only what it noted.
    /// </summary>
    internal sealed class AutoScalingGuard
    {
        private readonly Ec2Reads _reads;
        private readonly object _gate = new object();
        // Instance id → its group, "" for none, for every instance this session has read.
        private readonly Dictionary<string, string> _groups = new Dictionary<string, string>(StringComparer.Ordinal);

        public AutoScalingGuard(Ec2Reads reads) => _reads = reads;

        public void Note(IEnumerable<Instance> instances)
        {
            lock (_gate)
            {
                foreach (var instance in instances)
                {
                    _groups[instance.InstanceId] = TtmTags.Get(instance.Tags, TtmTags.AutoScalingGroup) ?? "";
                }
            }
        }

        /// <summary>Refuses, before anything changes, a launch into a farm role whose servers an Auto Scaling group manages (a farm role that is not that group).</summary>
        public void RefuseLaunchInto(FarmRole farmRole, IEnumerable<Server> servers)
        {
            var managed = servers.Select(s => (Server: s, Group: GroupOf(s.Id))).FirstOrDefault(s => s.Group != null && s.Group != farmRole.ScalingGroup);
            if (managed.Group == null) return;
            throw ManagedByAutoScaling($"Farm role {farmRole}", managed.Server, managed.Group, "nothing was launched");
        }

        /// <summary>
        /// Splits a batch to terminate into plain servers (EC2 terminates them) and servers of the
        /// group that is their farm role (the group terminates them), refusing before any of the
        /// batch is terminated a server some other group manages. Servers this session never read
        /// are read in one call (split at the filter limit). <paramref name="groupOfFarmRoles"/>
        /// gives, for farm-role ids, the group each one is (asked only when a server is in a group).
        /// </summary>
        public (List<Server> Plain, List<Server> InGroups) Split(IReadOnlyCollection<Server> servers,
            Func<IReadOnlyCollection<string>, IReadOnlyDictionary<string, string?>> groupOfFarmRoles, CancellationToken cancellationToken)
        {
            List<string> unknown;
            lock (_gate) unknown = servers.Select(s => s.Id).Where(id => !_groups.ContainsKey(id)).Distinct(StringComparer.Ordinal).ToList();
            if (unknown.Count > 0)
                Note(_reads.Instances($"Reading {unknown.Count} server(s) before terminating them", cancellationToken, new List<Filter> { TtmTags.Filter("instance-id", unknown.ToArray()) }));
            var plain = new List<Server>();
            var inGroups = new List<Server>();
            var grouped = servers.Select(s => (Server: s, Group: GroupOf(s))).Where(s => s.Group != null).ToList();
            var farmRoleGroups = grouped.Count == 0 ? new Dictionary<string, string?>()
                : groupOfFarmRoles(grouped.Select(s => s.Server.FarmRoleId).Distinct(StringComparer.Ordinal).ToList());
            foreach (var server in servers)
            {
                var group = GroupOf(server);
                if (group == null) plain.Add(server);
                else if (farmRoleGroups.TryGetValue(server.FarmRoleId, out var own) && own == group) inGroups.Add(server with { AutoScalingGroup = group });
                else throw ManagedByAutoScaling($"Server {server.Name} of farm {server.Farm}", server, group, "no server of the batch was terminated");
            }
            return (plain, inGroups);
        }

        private string? GroupOf(string instanceId)
        {
            lock (_gate) return _groups.TryGetValue(instanceId, out var group) && group.Length > 0 ? group : null;
        }

        // A group's new instance may not be listed by DescribeInstances yet (eventual consistency):
        // then the group the server was launched through says, never "plain", which EC2 would
        // terminate behind the group's back (and the group would launch another in its place).
        private string? GroupOf(Server server)
        {
            lock (_gate)
                if (_groups.TryGetValue(server.Id, out var group)) return group.Length > 0 ? group : null;
            return server.AutoScalingGroup;
        }

        private static TtmException ManagedByAutoScaling(string what, Server server, string group, string outcome) => new TtmException(
            TtmErrorCode.ManagedByAutoScaling,
            $"{what} is managed by Auto Scaling group '{group}' ({server.Name}, {server.Id}, carries the {TtmTags.AutoScalingGroup} tag); {outcome}. " +
            "Rebundle launches and terminates a group's servers only through the group, when the group is the farm role (it would replace them otherwise). " +
            $"Bring the group in as the farm role: New-TtmFarmRole -AutoScalingGroup {group} (docs/aws.md, Auto Scaling groups).",
            server.Name);
    }
}

using Amazon.EC2.Model;
using Rebundle.Aws.Ec2;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Aws
{
    /// <summary>
    /// Instances of an Auto Scaling group (tag aws:autoscaling:groupName) belong to the group:
    /// it replaces whatever is terminated and launches from its own template. A recycle there
    /// would launch one unmanaged server and the group another, so Rebundle refuses to launch
    /// into such a farm role or terminate such a server and points to instance refresh
    /// (docs/aws.md). The tag is noted whenever instances are read, so refusing costs no call
    /// (a server this session never read is read first). Its lock guards only what it noted.
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

        /// <summary>Refuses, before anything changes, a launch into a farm role whose servers an Auto Scaling group manages.</summary>
        public void RefuseLaunchInto(FarmRole farmRole, IEnumerable<Server> servers)
        {
            var managed = servers.Select(s => (Server: s, Group: GroupOf(s.Id))).FirstOrDefault(s => s.Group != null);
            if (managed.Group == null) return;
            throw ManagedByAutoScaling($"Farm role {farmRole}", managed.Server, managed.Group, "nothing was launched");
        }

        /// <summary>
        /// Refuses, before any of the batch is terminated, servers an Auto Scaling group manages.
        /// Servers this session never read are read in one call (split at the filter limit).
        /// </summary>
        public void RefuseTerminate(IReadOnlyCollection<Server> servers, CancellationToken cancellationToken)
        {
            List<string> unknown;
            lock (_gate) unknown = servers.Select(s => s.Id).Where(id => !_groups.ContainsKey(id)).Distinct(StringComparer.Ordinal).ToList();
            if (unknown.Count > 0)
                Note(_reads.Instances($"Reading {unknown.Count} server(s) before terminating them", cancellationToken, new List<Filter> { TtmTags.Filter("instance-id", unknown.ToArray()) }));
            foreach (var server in servers)
            {
                var group = GroupOf(server.Id);
                if (group != null) throw ManagedByAutoScaling($"Server {server.Name} of farm {server.Farm}", server, group, "no server of the batch was terminated");
            }
        }

        private string? GroupOf(string instanceId)
        {
            lock (_gate) return _groups.TryGetValue(instanceId, out var group) && group.Length > 0 ? group : null;
        }

        private static TtmException ManagedByAutoScaling(string what, Server server, string group, string outcome) => new TtmException(
            TtmErrorCode.ManagedByAutoScaling,
            $"{what} is managed by Auto Scaling group '{group}' ({server.Name}, {server.Id}, carries the {TtmTags.AutoScalingGroup} tag); {outcome}. " +
            "Rebundle never launches or terminates servers of an Auto Scaling group, which would replace them too. Roll the new image out with the group: " +
            $"point its launch template at the image (Set-TtmRoleImage, if it launches from a role's template) and start an instance refresh (aws autoscaling start-instance-refresh --auto-scaling-group-name {group}). See docs/aws.md, Auto Scaling groups.",
            server.Name);
    }
}

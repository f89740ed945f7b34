using Amazon.EC2.Model;
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
    /// (a server this session never read is read first).
    /// </summary>
    public sealed partial class AwsBackend
    {
        internal const string AutoScalingGroupTag = "aws:autoscaling:groupName";

        private readonly object _autoScalingGate = new object();
        // Instance id → its group, "" for none, for every instance this session has read.
        private readonly Dictionary<string, string> _autoScalingGroups = new Dictionary<string, string>(StringComparer.Ordinal);

        private void NoteAutoScalingGroups(IEnumerable<Instance> instances)
        {
            lock (_autoScalingGate)
            {
                foreach (var instance in instances)
                {
                    _autoScalingGroups[instance.InstanceId] = TtmTags.Get(instance.Tags, AutoScalingGroupTag) ?? "";
                }
            }
        }

        private string? AutoScalingGroupOf(string instanceId)
        {
            lock (_autoScalingGate) return _autoScalingGroups.TryGetValue(instanceId, out var group) && group.Length > 0 ? group : null;
        }

        /// <summary>Refuses, before anything changes, a launch into a farm role whose servers an Auto Scaling group manages.</summary>
        private void RefuseAutoScaled(FarmRole farmRole, IEnumerable<Server> servers)
        {
            var managed = servers.Select(s => (Server: s, Group: AutoScalingGroupOf(s.Id))).FirstOrDefault(s => s.Group != null);
            if (managed.Group == null) return;
            throw ManagedByAutoScaling($"Farm role {farmRole}", managed.Server, managed.Group, "nothing was launched");
        }

        private void RefuseAutoScaled(Server server, CancellationToken cancellationToken)
        {
            bool known;
            lock (_autoScalingGate) known = _autoScalingGroups.ContainsKey(server.Id);
            if (!known) NoteAutoScalingGroups(Instances($"Reading server {server.Name}", cancellationToken, new List<Filter> { TtmTags.Filter("instance-id", server.Id) }));
            var group = AutoScalingGroupOf(server.Id);
            if (group == null) return;
            throw ManagedByAutoScaling($"Server {server.Name} of farm {server.Farm}", server, group, "it was not terminated");
        }

        private static TtmException ManagedByAutoScaling(string what, Server server, string group, string outcome) => new TtmException(
            TtmErrorCode.ManagedByAutoScaling,
            $"{what} is managed by Auto Scaling group '{group}' ({server.Name}, {server.Id}, carries the {AutoScalingGroupTag} tag); {outcome}. " +
            "Rebundle never launches or terminates servers of an Auto Scaling group, which would replace them too. Roll the new image out with the group: " +
            $"point its launch template at the image (Set-TtmRoleImage, if it launches from a role's template) and start an instance refresh (aws autoscaling start-instance-refresh --auto-scaling-group-name {group}). See docs/aws.md, Auto Scaling groups.",
            server.Name);
    }
}

using Amazon.EC2.Model;
using Rebundle.Aws.Ec2;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;
using Rebundle.Runbook;

namespace Rebundle.Aws.AutoScaling
{
    /// <summary>
    /// Farm roles that are Auto Scaling groups (docs/aws.md, "Auto Scaling groups"): the farm-role
    /// template's ttm:auto-scaling-group tag names the group; its count is the group's desired
    /// capacity, its role the role template the group launches from (role/&lt;Role&gt; at
    /// $Default, so Set-TtmRoleImage's new default version is what the group launches next).
    /// This part reads groups (one DescribeAutoScalingGroups for every group a read needs) and
    /// holds and releases them around a recycle (<see cref="IScalingGroups"/>); launching and
    /// terminating through a group are in AwsScalingGroups.Changes.cs.
    /// </summary>
    internal sealed partial class AwsScalingGroups : IScalingGroups, IDisposable
    {
        /// <summary>
        /// Processes a recycle suspends: AZRebalance would terminate servers to even out zones
        /// while the window counts them, ReplaceUnhealthy would launch beside Rebundle's replacements
        /// (and replace one Rebundle is withdrawing), AlarmNotification and ScheduledActions would move
        /// the desired capacity the window launches and terminates against. All act again once it ends.
        /// </summary>
        internal static readonly IReadOnlyList<string> FightingProcesses = new[] { "AZRebalance", "ReplaceUnhealthy", "AlarmNotification", "ScheduledActions" };

        private readonly AutoScalingCalls _calls;
        private readonly Ec2Calls _ec2;
        private readonly Ec2Reads _reads;
        private readonly AwsSharedReads _shared;
        private readonly IClock _clock;
        private readonly TimeSpan _poll;

        public AwsScalingGroups(AutoScalingCalls calls, Ec2Calls ec2, Ec2Reads reads, AwsSharedReads shared, IClock clock, TimeSpan pollInterval)
        {
            _calls = calls;
            _ec2 = ec2;
            _reads = reads;
            _shared = shared;
            _clock = clock;
            _poll = pollInterval;
        }

        public AutoScalingCalls Calls => _calls;

        // ---- Reads ----------------------------------------------------------------------------

        /// <summary>The named groups by name, read in one pass (once per shared view); unknown names are absent.</summary>
        public IReadOnlyDictionary<string, ScalingGroupInfo> Groups(IEnumerable<string?> names, CancellationToken cancellationToken)
        {
            var wanted = names.Where(n => !string.IsNullOrEmpty(n)).Select(n => n!).Distinct(StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal).ToList();
            if (wanted.Count == 0) return new Dictionary<string, ScalingGroupInfo>(StringComparer.Ordinal);
            return _shared.Once(AwsSharedReads.ScalingGroups + string.Join(",", wanted),
                () => _calls.DescribeGroups(wanted, cancellationToken).ToDictionary(g => g.Name, StringComparer.Ordinal));
        }

        /// <summary>A group as it is now, never from a shared view: what a change decides on.</summary>
        private ScalingGroupInfo Fresh(FarmRole farmRole, CancellationToken cancellationToken) =>
            _calls.DescribeGroup(farmRole.ScalingGroup!, cancellationToken) ?? throw NotFound(farmRole);

        /// <summary>
        /// Farm roles with their group's count and role: the desired capacity, or while a recycle
        /// holds the group the count recorded before it (a killed run's raised capacity is not the count).
        /// </summary>
        public List<FarmRole> WithGroups(IReadOnlyList<FarmRole> farmRoles, CancellationToken cancellationToken)
        {
            var groups = Groups(farmRoles.Select(r => r.ScalingGroup), cancellationToken);
            return farmRoles.Select(farmRole =>
            {
                if (!farmRole.IsScalingGroup || !groups.TryGetValue(farmRole.ScalingGroup!, out var group)) return farmRole;
                var record = ScalingRecord.Parse(group.Tag(ScalingRecord.Tag));
                return farmRole with
                {
                    DesiredCount = record?.Desired ?? group.DesiredCapacity,
                    ScalingHeld = record != null,
                    Role = RoleOf(group) ?? farmRole.Role,
                    GroupDrainedTargetGroups = group.TargetGroupArns.Select(AutoScalingCalls.TargetGroupNameOf).ToList(),
                };
            }).ToList();
        }

        /// <summary>
        /// Servers of a group with its lifecycle over EC2's state: a running instance still in
        /// Pending:Wait is not serving (Pending), one in Terminating:Wait is on its way out
        /// (Terminating), whatever EC2 says.
        /// </summary>
        public List<Server> WithLifecycle(List<Server> servers, CancellationToken cancellationToken)
        {
            if (servers.All(s => s.AutoScalingGroup == null)) return servers;
            var groups = Groups(servers.Select(s => s.AutoScalingGroup), cancellationToken);
            var lifecycle = groups.Values.SelectMany(g => g.Instances).GroupBy(i => i.InstanceId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            return servers.Select(server =>
            {
                if (!lifecycle.TryGetValue(server.Id, out var instance)) return server;
                if (instance.IsLeaving && (server.Status == ServerStatus.Running || server.Status == ServerStatus.Pending)) return server with { Status = ServerStatus.Terminating };
                if (instance.IsLaunching && server.Status == ServerStatus.Running) return server with { Status = ServerStatus.Pending };
                return server;
            }).ToList();
        }

        /// <summary>The role a group launches from: role/&lt;Role&gt;'s role, null for another template.</summary>
        private static string? RoleOf(ScalingGroupInfo group) =>
            group.LaunchTemplateName != null && group.LaunchTemplateName.StartsWith(TtmTags.RolePrefix, StringComparison.Ordinal)
                ? group.LaunchTemplateName.Substring(TtmTags.RolePrefix.Length)
                : null;

        // ---- IScalingGroups: the hold around a recycle ----------------------------------------

        public IReadOnlyList<string> Hold(FarmRole farmRole, CancellationToken cancellationToken = default)
        {
            try
            {
                return HoldGroup(farmRole, cancellationToken);
            }
            finally
            {
                Changed();
            }
        }

        private IReadOnlyList<string> HoldGroup(FarmRole farmRole, CancellationToken cancellationToken)
        {
            var group = Fresh(farmRole, cancellationToken);
            var notes = new List<string>();
            var record = ScalingRecord.Parse(group.Tag(ScalingRecord.Tag));
            if (record == null)
            {
                // Written before anything else changes: a kill from here on leaves the record.
                record = new ScalingRecord(group.DesiredCapacity, group.MaxSize, FightingProcesses.Except(group.SuspendedProcesses, StringComparer.Ordinal).ToList());
                _calls.SetTags(group.Name, new Dictionary<string, string> { [ScalingRecord.Tag] = record.Format() }, propagate: false, cancellationToken);
                notes.Add($"Auto Scaling group {group.Name}: recorded on the group (tag {ScalingRecord.Tag}) what the recycle puts back: {record.Format()}.");
            }
            else
            {
                notes.Add($"Auto Scaling group {group.Name} is still held by a recycle that was stopped ({record.Format()}): this recycle puts it back when it is done.");
            }
            _calls.SuspendProcesses(group.Name, record.Suspended.Except(group.SuspendedProcesses, StringComparer.Ordinal).ToList(), cancellationToken);
            foreach (var hook in _calls.LifecycleHooks(group.Name, cancellationToken))
            {
                var launching = hook.Transition.EndsWith("LAUNCHING", StringComparison.Ordinal);
                notes.Add($"Auto Scaling group {group.Name} has lifecycle hook {hook.Name} on {(launching ? "launch" : "termination")} (heartbeat {hook.HeartbeatTimeout.TotalSeconds:0} s, then {hook.DefaultResult}): " +
                          $"{(launching ? "replacements wait in Pending:Wait" : "old servers wait in Terminating:Wait")} until it completes, within -Timeout.");
            }
            return notes;
        }

        public ScalingRelease Release(FarmRole farmRole, TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            try
            {
                return ReleaseGroup(farmRole, timeout, cancellationToken);
            }
            finally
            {
                Changed();
            }
        }

        private ScalingRelease ReleaseGroup(FarmRole farmRole, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var name = farmRole.ScalingGroup!;
            var group = _calls.DescribeGroup(name, cancellationToken);
            if (group == null) return new ScalingRelease(true, $"Auto Scaling group {name} of farm role {farmRole} no longer exists: nothing to put back.");
            var record = ScalingRecord.Parse(group.Tag(ScalingRecord.Tag));
            if (record == null) return new ScalingRelease(true, $"Auto Scaling group {name} of farm role {farmRole} is not held: nothing to put back.");

            // Lifecycle hooks hold servers in Pending:Wait or Terminating:Wait: the group is not done until they are.
            var until = _clock.UtcNow + timeout;
            while (group.Instances.Any(i => i.IsLaunching || i.IsLeaving) && _clock.UtcNow < until)
            {
                _clock.Sleep(_poll, cancellationToken);
                group = _calls.DescribeGroup(name, cancellationToken) ?? group;
            }
            var busy = group.Instances.Where(i => i.IsLaunching || i.IsLeaving).ToList();
            var later = $"the next Invoke-TtmRecycle of farm {farmRole.Farm} puts it back (the record stays on the group, tag {ScalingRecord.Tag}: {record.Format()}).";
            if (busy.Count > 0)
                return new ScalingRelease(false, $"Auto Scaling group {name} of farm role {farmRole} still has {string.Join(", ", busy.Take(5).Select(i => $"{i.InstanceId} ({i.LifecycleState})"))} after {timeout}; {later}");
            if (group.DesiredCapacity != record.Desired)
                return new ScalingRelease(false, $"Auto Scaling group {name} of farm role {farmRole} wants {group.DesiredCapacity} servers, {record.Desired} before the recycle: " +
                                                 $"the servers the stopped recycle left are surplus, and {later}");

            var unprotected = UnprotectNewServers(group, cancellationToken);
            if (group.MaxSize != record.Max) _calls.SetMaxSize(name, record.Max, cancellationToken);
            var resume = record.Suspended.Intersect(group.SuspendedProcesses, StringComparer.Ordinal).ToList();
            _calls.ResumeProcesses(name, resume, cancellationToken);
            _calls.DeleteTag(name, ScalingRecord.Tag, cancellationToken); // last: a kill before it leaves the record
            return new ScalingRelease(true, $"Auto Scaling group {name} of farm role {farmRole} put back: desired {record.Desired}, max {record.Max}" +
                                            (resume.Count > 0 ? $", {string.Join(", ", resume)} resumed" : "") +
                                            (unprotected > 0 ? $", scale-in protection of {unprotected} new server(s) back to the group's default" : "") + ".");
        }

        /// <summary>The servers a recycle protected from scale-in (tagged so) get the group's default protection back, and lose the tag.</summary>
        private int UnprotectNewServers(ScalingGroupInfo group, CancellationToken cancellationToken)
        {
            if (group.Instances.Count == 0) return 0;
            var tagged = _reads.Instances($"Reading the servers of Auto Scaling group {group.Name} a recycle protected", cancellationToken, new List<Filter>
            {
                TtmTags.Filter("instance-id", group.Instances.Select(i => i.InstanceId)),
                TtmTags.Filter("tag-key", TtmTags.ScaleInProtected),
            }).Select(i => i.InstanceId).ToList();
            if (tagged.Count == 0) return 0;
            _calls.SetProtection(group.Name, tagged, group.NewInstancesProtectedFromScaleIn, cancellationToken);
            _ec2.Call($"Removing the {TtmTags.ScaleInProtected} tag from {tagged.Count} server(s) of Auto Scaling group {group.Name}", cancellationToken,
                (ec2, cancel) => ec2.DeleteTagsAsync(new DeleteTagsRequest { Resources = tagged, Tags = new List<Tag> { new Tag { Key = TtmTags.ScaleInProtected } } }, cancel));
            return tagged.Count;
        }

        private void Changed()
        {
            _shared.Changed(AwsSharedReads.ScalingGroups);
            _shared.Changed(AwsSharedReads.Servers);
        }

        internal static TtmException NotFound(FarmRole farmRole) => new TtmException(TtmErrorCode.ScalingGroupNotFound,
            $"Farm role {farmRole} is Auto Scaling group '{farmRole.ScalingGroup}' (tag {TtmTags.ScalingGroup} on launch template {TtmTags.FarmRoleTemplate(farmRole.Farm, farmRole.Alias)}), and there is no such group in this region. " +
            "Nothing was changed. Fix the tag, or bring the group in again with New-TtmFarmRole -AutoScalingGroup.", farmRole.ToString());

        public void Dispose() => _calls.Dispose();
    }
}

using Rebundle.Aws.Ec2;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Aws.AutoScaling
{
    /// <summary>Launching and terminating through a group, and pointing it at another role.</summary>
    internal sealed partial class AwsScalingGroups
    {
        /// <summary>How long a group may take to name the instances a raised desired capacity launches (seconds, as a rule).</summary>
        internal TimeSpan InstancesAppearWithin { get; set; } = TimeSpan.FromMinutes(5);

        /// <summary>
        /// Raises the group's desired capacity by <paramref name="count"/> (and its max when the
        /// batch needs the room; the hold recorded the max) and returns the instances the group
        /// launches for it (the caller tags them, then <see cref="Protect"/>s them). Launch-first: the group
        /// is never asked for fewer servers than it has. Fails before any change when the group
        /// does not launch from the farm role's role at $Default (it would not launch the new image).
        /// </summary>
        /// <param name="serversOf">The servers the given instance ids are, named in a LaunchIncompleteException when the group brought fewer than asked.</param>
        public IReadOnlyList<string> Launch(FarmRole farmRole, int count, Func<IReadOnlyList<string>, IReadOnlyList<Server>> serversOf, CancellationToken cancellationToken)
        {
            try
            {
                return LaunchIn(farmRole, count, serversOf, cancellationToken);
            }
            finally
            {
                Changed();
            }
        }

        private IReadOnlyList<string> LaunchIn(FarmRole farmRole, int count, Func<IReadOnlyList<string>, IReadOnlyList<Server>> serversOf, CancellationToken cancellationToken)
        {
            var group = Fresh(farmRole, cancellationToken);
            RefuseOtherTemplate(farmRole, group);
            var before = new HashSet<string>(group.Instances.Select(i => i.InstanceId), StringComparer.Ordinal);
            var desired = group.Instances.Count(i => !i.IsLeaving) + count;
            if (desired > group.MaxSize) _calls.SetMaxSize(group.Name, desired, cancellationToken);
            _calls.SetDesiredCapacity(group.Name, desired, cancellationToken);

            var started = _clock.UtcNow;
            var launched = new List<string>();
            try
            {
                while (true)
                {
                    group = _calls.DescribeGroup(group.Name, cancellationToken) ?? throw NotFound(farmRole);
                    launched = group.Instances.Where(i => !before.Contains(i.InstanceId) && !i.IsLeaving).Select(i => i.InstanceId).Take(count).ToList();
                    if (launched.Count >= count) break;
                    var failed = _calls.RecentActivities(group.Name, cancellationToken)
                        .FirstOrDefault(a => a.StatusCode == "Failed" && (a.StartTime == null || a.StartTime >= started - TimeSpan.FromSeconds(5)));
                    if (failed != null || _clock.UtcNow - started > InstancesAppearWithin)
                        throw Incomplete(farmRole, group.Name, desired, count, launched, serversOf,
                            failed != null ? $"the group's launch failed: {failed.StatusMessage ?? failed.Description}" : $"the group named {launched.Count} of {count} new instance(s) within {InstancesAppearWithin}",
                            cancellationToken);
                    _clock.Sleep(_poll, cancellationToken);
                }
            }
            catch (OperationCanceledException stop) when (!(stop is LaunchStoppedException))
            {
                // Ctrl+C while the group launches: what it never named is asked back now, what it
                // named goes to the recycle's stop, which terminates it through the group.
                LowerBy(group.Name, desired, count - launched.Count);
                throw new LaunchStoppedException(serversOf(launched), stop);
            }
            return launched;
        }

        /// <summary>
        /// Protects the new servers from scale-in while old ones go. Called only once they carry
        /// the ttm:scale-in-protected tag, so a run stopped in between never leaves a server
        /// protected that the release would not find to put back.
        /// </summary>
        public void Protect(FarmRole farmRole, IReadOnlyCollection<string> instanceIds, CancellationToken cancellationToken)
        {
            try
            {
                _calls.SetProtection(farmRole.ScalingGroup!, instanceIds, true, cancellationToken);
            }
            finally
            {
                Changed();
            }
        }

        /// <summary>
        /// A launch that stopped short: the desired capacity goes back down by what never came, so
        /// the group does not keep launching servers nobody waits for; those that came are named.
        /// </summary>
        private LaunchIncompleteException Incomplete(FarmRole farmRole, string group, int desired, int count, List<string> launched,
            Func<IReadOnlyList<string>, IReadOnlyList<Server>> serversOf, string why, CancellationToken cancellationToken)
        {
            var missing = count - launched.Count;
            LowerBy(group, desired, missing);
            var message = $"Auto Scaling group {group} of farm role {farmRole} was asked for {count} more server(s) and {why}. Its desired capacity was lowered again by {missing}" +
                          (launched.Count > 0 ? $"; {string.Join(", ", launched)} came and are the recycle's to use or terminate" : "") +
                          ". Look at the group's activity history (aws autoscaling describe-scaling-activities), then run Invoke-TtmRecycle again.";
            if (cancellationToken.IsCancellationRequested) throw new LaunchStoppedException(serversOf(launched), new OperationCanceledException(cancellationToken));
            return new LaunchIncompleteException(new TtmException(TtmErrorCode.ReplacementFailed, message, farmRole.ToString()), serversOf(launched), message);
        }

        /// <summary>
        /// Takes back the capacity of instances the group never named, so it does not keep
        /// launching servers nobody waits for. Lowering it further would let the group scale in
        /// on its own, and its termination policy picks servers of the old template first.
        /// </summary>
        private void LowerBy(string group, int desired, int missing)
        {
            if (missing <= 0) return;
            try
            {
                _calls.SetDesiredCapacity(group, desired - missing, CancellationToken.None);
            }
            catch (TtmException)
            {
                // The recycle's stop and the next run trim what this leaves; the error thrown after says what happened.
            }
        }

        /// <summary>
        /// Terminates the servers through their group, lowering its desired capacity with each,
        /// so it launches nothing in their place. TerminateInstanceInAutoScalingGroup takes one
        /// instance a call (the API has no batch form). A server the group no longer lists is
        /// gone already.
        /// </summary>
        public void Terminate(IReadOnlyCollection<Server> servers, CancellationToken cancellationToken)
        {
            try
            {
                var groups = Groups(servers.Select(s => s.AutoScalingGroup), cancellationToken);
                var listed = new HashSet<string>(groups.Values.SelectMany(g => g.Instances).Where(i => !i.IsLeaving).Select(i => i.InstanceId), StringComparer.Ordinal);
                foreach (var server in servers.Where(s => listed.Contains(s.Id)))
                    _calls.TerminateInstance(server.Id, cancellationToken, server.Name);
            }
            finally
            {
                Changed();
            }
        }

        /// <summary>The group launches from role/&lt;Role&gt; at $Default from now on, and tags what it launches with the role.</summary>
        public void SetRole(FarmRole farmRole, string roleName, CancellationToken cancellationToken)
        {
            try
            {
                var group = Fresh(farmRole, cancellationToken);
                _calls.SetLaunchTemplate(group.Name, TtmTags.RoleTemplate(roleName), "$Default", cancellationToken);
                _calls.SetTags(group.Name, new Dictionary<string, string> { [TtmTags.Role] = roleName }, propagate: true, cancellationToken);
            }
            finally
            {
                Changed();
            }
        }

        private static void RefuseOtherTemplate(FarmRole farmRole, ScalingGroupInfo group)
        {
            var template = TtmTags.RoleTemplate(farmRole.Role);
            if (group.LaunchTemplateName == template && group.LaunchTemplateVersion == "$Default") return;
            var launchesFrom = group.LaunchTemplateName == null ? "no launch template (a launch configuration or a mixed instances policy)"
                : $"launch template {group.LaunchTemplateName} version {group.LaunchTemplateVersion}";
            throw new TtmException(TtmErrorCode.ScalingGroupNotFound,
                $"Auto Scaling group {group.Name} of farm role {farmRole} launches from {launchesFrom}, not from role {farmRole.Role} ({template}, $Default), " +
                $"so its new servers would not run the role's image. Nothing was launched. Run Set-TtmFarmRole -Farm {farmRole.Farm} -Alias {farmRole.Alias} -Role {farmRole.Role} to point the group at the role.",
                farmRole.ToString());
        }
    }
}

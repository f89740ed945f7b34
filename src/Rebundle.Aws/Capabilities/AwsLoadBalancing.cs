using Rebundle.Aws.Elb;
using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Aws
{
    /// <summary>
    /// ILoadBalancing on ELBv2 target groups (instance targets). A target group's name is
    /// resolved to its ARN once and its deregistration delay read once a session (both change
    /// only by hand, rarely); each <see cref="ReadTargetGroups"/> then costs exactly one
    /// DescribeTargetHealth per target group, whatever the number of targets. A cached ARN that
    /// ELBv2 no longer knows (the group was deleted and made again) is forgotten, so the next
    /// read resolves the name afresh. Its own lock guards only the caches; calls run outside it.
    /// </summary>
    internal sealed class AwsLoadBalancing : ILoadBalancing, IDisposable
    {
        private readonly Elbv2Calls _elb;
        private readonly object _gate = new object();
        private readonly Dictionary<string, TargetGroupInfo> _byName = new Dictionary<string, TargetGroupInfo>(StringComparer.Ordinal);
        private readonly Dictionary<string, TimeSpan> _delayByArn = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);

        public AwsLoadBalancing(Elbv2Calls elb) => _elb = elb;

        public IReadOnlyList<TargetGroupState> ReadTargetGroups(IReadOnlyCollection<string> targetGroups, CancellationToken cancellationToken = default)
        {
            var groups = Resolve(targetGroups, cancellationToken);
            return groups.Select(group =>
            {
                var delay = DelayOf(group, cancellationToken);
                var health = Forgetting(group, () => _elb.DescribeTargetHealth(group, cancellationToken));
                var targets = new Dictionary<string, TargetHealth>(StringComparer.Ordinal);
                foreach (var target in health)
                {
                    var state = HealthOf(target.State);
                    // One instance on two ports is two descriptions: it is healthy only when both are.
                    targets[target.Id] = targets.TryGetValue(target.Id, out var other) && other != TargetHealth.Healthy ? other : state;
                }
                return new TargetGroupState { Name = group.Name, DeregistrationDelay = delay, Targets = targets };
            }).ToList();
        }

        public void RegisterTargets(FarmRole farmRole, string targetGroup, IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default)
        {
            if (servers.Count == 0) return;
            var group = Resolve(new[] { targetGroup }, cancellationToken).Single();
            Forgetting(group, () => { _elb.RegisterTargets(group, servers.Select(s => s.Id).ToList(), cancellationToken); return true; });
        }

        public void DeregisterTargets(FarmRole farmRole, string targetGroup, IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default)
        {
            if (servers.Count == 0) return;
            var group = Resolve(new[] { targetGroup }, cancellationToken).Single();
            Forgetting(group, () => { _elb.DeregisterTargets(group, servers.Select(s => s.Id).ToList(), cancellationToken); return true; });
        }

        /// <summary>ELBv2's target states; unhealthy.draining (an unhealthy target being drained) drains. Anything newer is not healthy.</summary>
        public static TargetHealth HealthOf(string state)
        {
            switch (state)
            {
                case "initial": return TargetHealth.Initial;
                case "healthy": return TargetHealth.Healthy;
                case "unhealthy": return TargetHealth.Unhealthy;
                case "unused": return TargetHealth.Unused;
                case "draining":
                case "unhealthy.draining": return TargetHealth.Draining;
                default: return TargetHealth.Unavailable;
            }
        }

        /// <summary>The groups by name, in the order asked; names not cached are read in one DescribeTargetGroups pass.</summary>
        private IReadOnlyList<TargetGroupInfo> Resolve(IReadOnlyCollection<string> names, CancellationToken cancellationToken)
        {
            List<string> missing;
            lock (_gate) missing = names.Where(n => !_byName.ContainsKey(n)).Distinct(StringComparer.Ordinal).ToList();
            if (missing.Count > 0)
            {
                var found = _elb.DescribeTargetGroups(missing, cancellationToken);
                lock (_gate) foreach (var group in found) _byName[group.Name] = group;
            }
            lock (_gate)
            {
                var unknown = names.Where(n => !_byName.ContainsKey(n)).ToList();
                if (unknown.Count > 0)
                    throw new TtmException(TtmErrorCode.TargetGroupNotFound,
                        $"ELBv2 ({_elb.Client.Location}) has no target group named {string.Join(", ", unknown)}. Check the farm role's ttm:target-groups tag.", string.Join(",", unknown));
                return names.Select(n => _byName[n]).ToList();
            }
        }

        private TimeSpan DelayOf(TargetGroupInfo group, CancellationToken cancellationToken)
        {
            lock (_gate)
                if (_delayByArn.TryGetValue(group.Arn, out var cached)) return cached;
            var delay = Forgetting(group, () => _elb.DeregistrationDelay(group, cancellationToken));
            lock (_gate) _delayByArn[group.Arn] = delay;
            return delay;
        }

        private T Forgetting<T>(TargetGroupInfo group, Func<T> call)
        {
            try
            {
                return call();
            }
            catch (TtmException e) when (e.Code == TtmErrorCode.TargetGroupNotFound)
            {
                lock (_gate)
                {
                    _byName.Remove(group.Name);
                    _delayByArn.Remove(group.Arn);
                }
                throw;
            }
        }

        public void Dispose() => _elb.Dispose();
    }
}

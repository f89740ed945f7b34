using Amazon.EC2.Model;
using Rebundle.Safety;
using Rebundle.Aws.Ec2;

namespace Rebundle.Aws
{
    /// <summary>A farm this connection holds: how many acquisitions hold it, and the grant that tagged it.</summary>
    internal sealed class HeldFarm
    {
        public HeldFarm(LeaseGrant grant) => Grant = grant;

        public LeaseGrant Grant { get; }

        public int Count { get; set; }
    }

    /// <summary>One acquisition's lease tags: the same value on every farm-role template of its farms.</summary>
    internal sealed class LeaseGrant
    {
        private readonly Dictionary<string, List<string>> _templatesByFarm;

        public LeaseGrant(LeaseHolder holder, IEnumerable<LaunchTemplate> templates)
        {
            Holder = holder;
            _templatesByFarm = templates.GroupBy(FarmOf, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Select(t => t.LaunchTemplateId).ToList(), StringComparer.Ordinal);
        }

        public LeaseHolder Holder { get; private set; }

        public string Value { get; private set; } = "";

        public DateTimeOffset RenewAt { get; private set; }

        /// <summary>Another run took it over after it lapsed; it is no longer renewed.</summary>
        public bool Lost { get; set; }

        public IReadOnlyCollection<string> Farms => _templatesByFarm.Keys;

        public HashSet<string> TemplateIds => new HashSet<string>(_templatesByFarm.Values.SelectMany(ids => ids), StringComparer.Ordinal);

        public bool IsEmpty => _templatesByFarm.Count == 0;

        /// <summary>The holder with a fresh expiry, and the tag value saying so.</summary>
        public (LeaseHolder Holder, string Value) Renewed(string token, DateTimeOffset now, LeaseSettings settings)
        {
            var holder = Holder with { Expires = now + settings.Duration };
            return (holder, new LeaseTag(token, holder).Format());
        }

        /// <summary>The tags now say <paramref name="renewed"/>: the value to delete at release, and the next renewal.</summary>
        public void Written((LeaseHolder Holder, string Value) renewed, DateTimeOffset now, LeaseSettings settings)
        {
            Holder = renewed.Holder;
            Value = renewed.Value;
            RenewAt = now + settings.RenewEvery;
        }

        public static string FarmOf(LaunchTemplate template) => TtmTags.Get(template.Tags, TtmTags.Farm) ?? template.LaunchTemplateName;

        /// <summary>Stops holding <paramref name="farm"/>; its template ids, to untag.</summary>
        public IReadOnlyList<string> Release(string farm)
        {
            if (!_templatesByFarm.TryGetValue(farm, out var ids)) return Array.Empty<string>();
            _templatesByFarm.Remove(farm);
            return ids;
        }
    }
}

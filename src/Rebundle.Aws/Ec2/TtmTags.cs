using System.Text.RegularExpressions;
using Amazon.EC2.Model;

namespace Rebundle.Aws.Ec2
{
    /// <summary>
    /// The names of the mapping in docs/aws.md: tag keys, their values and the launch-template
    /// name patterns. Nothing else in the backend spells them.
    /// </summary>
    public static class TtmTags
    {
        public const string Kind = "ttm:kind";
        public const string Farm = "ttm:farm";
        public const string Alias = "ttm:alias";
        public const string Role = "ttm:role";
        public const string Count = "ttm:count";
        public const string Index = "ttm:index";
        public const string SourceInstance = "ttm:source-instance";

        /// <summary>On a farm-role template: the ELBv2 target groups its servers serve from, names separated by commas.</summary>
        public const string TargetGroups = "ttm:target-groups";

        /// <summary>On a farm-role template: the Auto Scaling group that is the farm role (its servers are the group's instances).</summary>
        public const string ScalingGroup = "ttm:auto-scaling-group";

        /// <summary>On an instance a recycle protected from scale-in while old servers went: put back to the group's default when the recycle ends.</summary>
        public const string ScaleInProtected = "ttm:scale-in-protected";

        /// <summary>On a role's launch template: the rebundle run that created it.</summary>
        public const string RunId = "ttm:run-id";

        /// <summary>A run's lease on a farm, on each of its farm-role templates (see <see cref="LeaseTag"/>).</summary>
        public const string Lease = "ttm:lease";

        /// <summary>The console's display name; set on instances so they read well there.</summary>
        public const string Name = "Name";

        /// <summary>The tag EC2 Auto Scaling puts on each instance of a group: such an instance is the group's, never Rebundle's to replace.</summary>
        public const string AutoScalingGroup = "aws:autoscaling:groupName";

        public const string KindRole = "role";
        public const string KindFarmRole = "farm-role";

        public const string RolePrefix = "role/";

        public static string RoleTemplate(string roleName) => RolePrefix + roleName;

        public static string FarmRoleTemplate(string farm, string alias) => "farm/" + farm + "/" + alias;

        public static string ServerDisplayName(string farm, string alias, int index) => farm + "/" + alias + "." + index;

        // SnapshotService names -ReplaceImage images "<Role>-yyyyMMdd-HHmmss"; the role is what precedes the stamp.
        private static readonly Regex Stamp = new Regex(@"-\d{8}-\d{6}$", RegexOptions.CultureInvariant);

        /// <summary>The role an image is for, from its name: <c>RailsAppServer-1-7</c> or <c>TTM-Base-20260101-120000</c> → <c>TTM-Base</c>.</summary>
        public static string RoleOfImageName(string imageName) => Stamp.Replace(imageName, "");

        public static string? Get(IEnumerable<Tag>? tags, string key) => tags?.FirstOrDefault(t => t.Key == key)?.Value;

        public static Tag Tag(string key, string value) => new Tag { Key = key, Value = value };

        public static Filter Filter(string name, params string[] values) => new Filter { Name = name, Values = values.ToList() };

        public static Filter Filter(string name, IEnumerable<string> values) => new Filter { Name = name, Values = values.ToList() };

        public static Filter TagFilter(string key, IEnumerable<string> values) => Filter("tag:" + key, values);
    }
}

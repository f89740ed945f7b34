using System.Globalization;
using Amazon.EC2.Model;
using Rebundle.Domain;
using Ec2Image = Amazon.EC2.Model.Image;
using Image = Rebundle.Domain.Image;

namespace Rebundle.Aws.Ec2
{
    /// <summary>EC2 objects read back as domain objects, following the tag mapping of docs/aws.md.</summary>
    public static class AwsMapping
    {
        // State reasons EC2 gives an instance that ended without ever running properly. A
        // terminated instance with any other reason (a user's terminate) is just Terminated.
        private static readonly HashSet<string> LaunchFailures = new HashSet<string>(StringComparer.Ordinal)
        {
            "Server.InternalError", "Server.InsufficientInstanceCapacity", "Client.InternalError",
            "Client.VolumeLimitExceeded", "Client.InvalidSnapshot.NotFound", "Client.InvalidKMSKey.InvalidState",
        };

        public static ServerStatus StatusOf(Instance instance)
        {
            switch (instance.State?.Name?.Value)
            {
                case "pending": return ServerStatus.Pending;
                case "running": return ServerStatus.Running;
                case "shutting-down":
                case "stopping": return ServerStatus.Terminating;
                case "terminated":
                    return instance.StateReason?.Code != null && LaunchFailures.Contains(instance.StateReason.Code) ? ServerStatus.Failed : ServerStatus.Terminated;
                default: return ServerStatus.Terminated; // stopped: Rebundle never restarts a stopped server
            }
        }

        /// <summary>
        /// The EC2 states a status can be in, for the instance-state-name filter. A running
        /// instance is still Pending while its status checks initialize, and Failed when they fail.
        /// </summary>
        public static IEnumerable<string> StatesOf(ServerStatus status)
        {
            switch (status)
            {
                case ServerStatus.Pending: return new[] { "pending", "running" };
                case ServerStatus.Running: return new[] { "running" };
                case ServerStatus.Terminating: return new[] { "shutting-down", "stopping" };
                case ServerStatus.Failed: return new[] { "terminated", "running" };
                default: return new[] { "terminated", "stopped" };
            }
        }

        public static readonly string[] LiveStates = { "pending", "running", "shutting-down", "stopping" };

        /// <summary>The server an instance is, or null when it lacks the farm-role tags (not one of ours).</summary>
        public static Server? ServerOf(Instance instance, string region)
        {
            var farm = TtmTags.Get(instance.Tags, TtmTags.Farm);
            var alias = TtmTags.Get(instance.Tags, TtmTags.Alias);
            if (string.IsNullOrEmpty(farm) || string.IsNullOrEmpty(alias)) return null;
            int.TryParse(TtmTags.Get(instance.Tags, TtmTags.Index), NumberStyles.Integer, CultureInfo.InvariantCulture, out var index);
            return new Server
            {
                Farm = farm!,
                FarmId = farm!,
                Alias = alias!,
                Role = TtmTags.Get(instance.Tags, TtmTags.Role) ?? "",
                Index = index,
                Status = StatusOf(instance),
                Id = instance.InstanceId,
                FarmRoleId = TtmTags.FarmRoleTemplate(farm!, alias!),
                ImageId = instance.ImageId ?? "",
                PublicIp = string.IsNullOrEmpty(instance.PublicIpAddress) ? null : instance.PublicIpAddress,
                PrivateIp = string.IsNullOrEmpty(instance.PrivateIpAddress) ? null : instance.PrivateIpAddress,
                Region = region,
                AutoScalingGroup = string.IsNullOrEmpty(TtmTags.Get(instance.Tags, TtmTags.AutoScalingGroup)) ? null : TtmTags.Get(instance.Tags, TtmTags.AutoScalingGroup),
                LaunchedAt = instance.LaunchTime is DateTime launched ? new DateTimeOffset(DateTime.SpecifyKind(launched.ToUniversalTime(), DateTimeKind.Utc)) : (DateTimeOffset?)null,
            };
        }

        /// <summary>
        /// A running server's status from its status checks: Running only when both the instance
        /// and the system check are "ok"; Failed when either is "impaired"; anything else
        /// ("initializing", "insufficient-data", "not-applicable", none) is still Pending, so a
        /// recycle never terminates an old server for a replacement that has passed nothing.
        /// </summary>
        public static ServerStatus StatusAfterChecks(InstanceStatus checks)
        {
            var summaries = new[] { checks.Status?.Status?.Value, checks.SystemStatus?.Status?.Value }; // Status is the instance check
            if (summaries.Contains("impaired")) return ServerStatus.Failed;
            return summaries.All(s => s == "ok") ? ServerStatus.Running : ServerStatus.Pending;
        }

        public static ImageStatus StatusOf(Ec2Image image)
        {
            switch (image.State?.Value)
            {
                case "available": return ImageStatus.Available;
                case "pending":
                case "transient": return ImageStatus.Pending;
                default: return ImageStatus.Failed; // failed, error, invalid, deregistered, disabled
            }
        }

        public static Image ImageOf(Ec2Image image) => new Image
        {
            Id = image.ImageId,
            Name = image.Name ?? "",
            Status = StatusOf(image),
            CreatedAt = DateTimeOffset.TryParse(image.CreationDate, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created) ? created : (DateTimeOffset?)null,
            SourceServerId = TtmTags.Get(image.Tags, TtmTags.SourceInstance),
            StatusReason = image.StateReason?.Message,
        };

        /// <summary>A farm role from its launch template, or null when the tags are incomplete.</summary>
        public static FarmRole? FarmRoleOf(LaunchTemplate template)
        {
            var farm = TtmTags.Get(template.Tags, TtmTags.Farm);
            var alias = TtmTags.Get(template.Tags, TtmTags.Alias);
            var role = TtmTags.Get(template.Tags, TtmTags.Role);
            if (string.IsNullOrEmpty(farm) || string.IsNullOrEmpty(alias) || string.IsNullOrEmpty(role)) return null;
            var count = int.TryParse(TtmTags.Get(template.Tags, TtmTags.Count), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 1;
            return new FarmRole
            {
                Farm = farm!, FarmId = farm!, Alias = alias!, Role = role!, DesiredCount = count, Id = template.LaunchTemplateName,
                TargetGroups = TargetGroupsOf(TtmTags.Get(template.Tags, TtmTags.TargetGroups)),
                ScalingGroup = string.IsNullOrWhiteSpace(TtmTags.Get(template.Tags, TtmTags.ScalingGroup)) ? null : TtmTags.Get(template.Tags, TtmTags.ScalingGroup)!.Trim(),
            };
        }

        /// <summary>The ttm:target-groups tag's names: comma-separated, trimmed, empties and repeats dropped (a hand-typed "a, b," reads as a and b).</summary>
        public static IReadOnlyList<string> TargetGroupsOf(string? tag) =>
            string.IsNullOrWhiteSpace(tag)
                ? Array.Empty<string>()
                : tag!.Split(',').Select(n => n.Trim()).Where(n => n.Length > 0).Distinct(StringComparer.Ordinal).ToList();

        /// <summary>The role name a role template stands for: its ttm:role tag, else its name without "role/".</summary>
        public static string RoleNameOf(LaunchTemplate template) =>
            TtmTags.Get(template.Tags, TtmTags.Role) ??
            (template.LaunchTemplateName.StartsWith(TtmTags.RolePrefix, StringComparison.Ordinal) ? template.LaunchTemplateName.Substring(TtmTags.RolePrefix.Length) : template.LaunchTemplateName);

        public static DateTimeOffset? TimeOf(DateTime? at) =>
            at is DateTime value ? new DateTimeOffset(DateTime.SpecifyKind(value.ToUniversalTime(), DateTimeKind.Utc)) : (DateTimeOffset?)null;
    }
}

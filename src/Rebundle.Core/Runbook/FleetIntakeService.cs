using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Runbook
{
    /// <summary>
    /// Bringing a fleet made without Rebundle under it (New-TtmRole, New-TtmFarmRole): the
    /// request is checked and resolved first (which servers a tag selects, a group's count and
    /// target groups), described for -WhatIf and the prompt, and only then made. The backend's
    /// <see cref="IFleetIntake"/> does the work; a backend without one (the Sandbox and Scalr,
    /// whose fleets are made in their own consoles) says so.
    /// </summary>
    public sealed class FleetIntakeService
    {
        private readonly Fleet _fleet;

        public FleetIntakeService(Fleet fleet) => _fleet = fleet;

        private IFleetIntake Intake => _fleet.Backend.Capability<IFleetIntake>()
            ?? throw new TtmException(TtmErrorCode.InvalidArgument,
                $"The {_fleet.Backend.Kind} backend has no existing fleet to bring in: its farms, farm roles and roles are Rebundle's already. New-TtmRole and New-TtmFarmRole are for AWS (docs/aws.md, \"From an existing fleet\").");

        /// <summary>The role request checked: a valid role name, and an image or a launch template to take it from.</summary>
        public RoleIntake CheckRole(RoleIntake request)
        {
            var name = RoleName.Parse(request.Name).FullName;
            if (string.IsNullOrWhiteSpace(request.ImageId) && string.IsNullOrWhiteSpace(request.LaunchTemplate))
                throw new TtmException(TtmErrorCode.InvalidArgument, "Name what role " + name + " is made from: -ImageId, or -LaunchTemplate (an existing launch template's default version).", name);
            _ = Intake;
            return request with { Name = name };
        }

        public static string Describe(RoleIntake request) =>
            request.LaunchTemplate != null
                ? $"Create role {request.Name} from the default version of launch template {request.LaunchTemplate}" + (request.ImageId != null ? $", with image {request.ImageId}" : "")
                : $"Create role {request.Name} with image {request.ImageId} ({request.InstanceType ?? "t3.micro"})";

        public Role NewRole(RoleIntake request, CancellationToken cancellation = default) => Intake.NewRole(CheckRole(request), cancellation);

        /// <summary>What the farm role request comes to, read and changing nothing: TtmFarmRoleAlreadyExists, TtmRoleNotFound, TtmServerNotFound… before any prompt.</summary>
        public IntakePreview Preview(FarmRoleIntake request, CancellationToken cancellation = default)
        {
            if (string.IsNullOrWhiteSpace(request.Farm) || string.IsNullOrWhiteSpace(request.Alias))
                throw new TtmException(TtmErrorCode.InvalidArgument, "A farm role needs a farm and an alias (-Farm, -Alias).", null);
            if (request.Count is int count && count < 1)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"-Count must be 1 or more; got {count}.", count);
            var role = RoleName.Parse(request.Role).FullName;
            var preview = Intake.PreviewFarmRole(request with { Role = role }, cancellation);
            // Taken in beyond its count, a server is surplus, and the next recycle terminates it.
            // (A group's servers are its desired capacity's: the group keeps them, not the count.)
            if (preview.Request.AutoScalingGroup == null && preview.InstanceIds.Count > preview.Count)
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    $"{preview.InstanceIds.Count} running instances match ({ServersOf(preview)}), more than -Count {preview.Count}: the next recycle would terminate the {preview.InstanceIds.Count - preview.Count} beyond the count. " +
                    "Narrow -Tag, name the instances with -InstanceId, or raise -Count. Nothing was changed.", preview.Count);
            return preview;
        }

        private static string ServersOf(IntakePreview preview) =>
            string.Join(", ", preview.InstanceIds.Take(5)) + (preview.InstanceIds.Count > 5 ? ", …" : "");

        public static string Describe(IntakePreview preview)
        {
            var request = preview.Request;
            var servers = ServersOf(preview);
            var serving = preview.TargetGroups.Count > 0 ? $", serving target group(s) {string.Join(", ", preview.TargetGroups)}" : "";
            return request.AutoScalingGroup != null
                ? $"Bring Auto Scaling group {request.AutoScalingGroup} ({preview.InstanceIds.Count} server(s){(servers.Length > 0 ? ": " + servers : "")}, desired capacity {preview.Count}) in as farm role {request.Farm}/{request.Alias} " +
                  $"running role {request.Role}{serving}; the group launches from role {request.Role} from now on"
                : $"Bring {preview.InstanceIds.Count} server(s) ({servers}) in as farm role {request.Farm}/{request.Alias} running role {request.Role}, count {preview.Count}{serving}";
        }

        public FarmRole NewFarmRole(IntakePreview preview, CancellationToken cancellation = default) => Intake.NewFarmRole(preview.Request, cancellation);
    }
}

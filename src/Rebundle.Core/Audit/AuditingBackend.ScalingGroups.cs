using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Safety;

namespace Rebundle.Audit
{
    public sealed partial class AuditingBackend
    {
        /// <summary>
        /// A group's hold and release are changes to the farm role (processes, max, protection):
        /// each is guarded, leased and written ahead like any other, so an interrupted recycle's
        /// log says a group was held and not released, and what the release is to put back.
        /// </summary>
        private sealed class AuditedScalingGroups : IScalingGroups
        {
            private readonly AuditingBackend _audit;
            private readonly IScalingGroups _inner;

            public AuditedScalingGroups(AuditingBackend audit, IScalingGroups inner)
            {
                _audit = audit;
                _inner = inner;
            }

            public IReadOnlyList<string> Hold(FarmRole farmRole, CancellationToken cancellationToken = default) => _audit.Change(cancellationToken,
                new ChangeIntent
                {
                    Action = "HoldScalingGroup",
                    Target = ChangeIntent.FarmRoleTarget(farmRole.Farm, farmRole.Alias),
                    Farms = new[] { farmRole.Farm },
                    Before = $"Auto Scaling group {farmRole.ScalingGroup} at {farmRole.DesiredCount}",
                    After = "held for the recycle: what to restore recorded on the group, the processes that would fight the recycle suspended",
                    Description = $"Hold Auto Scaling group {farmRole.ScalingGroup} of farm role {farmRole} for a recycle",
                },
                () => _inner.Hold(farmRole, cancellationToken),
                notes => notes.Count == 0 ? "held" : "held; " + string.Join(" ", notes));

            public ScalingRelease Release(FarmRole farmRole, TimeSpan timeout, CancellationToken cancellationToken = default) => _audit.Change(cancellationToken,
                new ChangeIntent
                {
                    Action = "ReleaseScalingGroup",
                    Target = ChangeIntent.FarmRoleTarget(farmRole.Farm, farmRole.Alias),
                    Farms = new[] { farmRole.Farm },
                    Before = $"Auto Scaling group {farmRole.ScalingGroup} held for a recycle",
                    After = "max, scale-in protection and processes as recorded before the recycle",
                    Description = $"Release Auto Scaling group {farmRole.ScalingGroup} of farm role {farmRole} after a recycle",
                },
                () => _inner.Release(farmRole, timeout, cancellationToken),
                release => (release.Restored ? "restored: " : "kept held: ") + release.Note);
        }

        /// <summary>Bringing a fleet in makes roles and farm roles and tags what exists: each is one audited change.</summary>
        private sealed class AuditedIntake : IFleetIntake
        {
            private readonly AuditingBackend _audit;
            private readonly IFleetIntake _inner;

            public AuditedIntake(AuditingBackend audit, IFleetIntake inner)
            {
                _audit = audit;
                _inner = inner;
            }

            public IntakePreview PreviewFarmRole(FarmRoleIntake request, CancellationToken cancellationToken = default) =>
                _inner.PreviewFarmRole(request, cancellationToken);

            public Role NewRole(RoleIntake request, CancellationToken cancellationToken = default) => _audit.Change(cancellationToken,
                new ChangeIntent
                {
                    Action = "NewRole",
                    Target = ChangeIntent.RoleTarget(request.Name),
                    After = request.LaunchTemplate != null ? $"role {request.Name} from launch template {request.LaunchTemplate}" : $"role {request.Name} with image {request.ImageId}",
                    Description = $"Create role {request.Name}",
                },
                () => _inner.NewRole(request, cancellationToken),
                role => $"role {role.Name} with image {role.ImageId}");

            public FarmRole NewFarmRole(FarmRoleIntake request, CancellationToken cancellationToken = default) => _audit.Change(cancellationToken,
                new ChangeIntent
                {
                    Action = "NewFarmRole",
                    Target = ChangeIntent.FarmRoleTarget(request.Farm, request.Alias),
                    Farms = new[] { request.Farm },
                    After = request.AutoScalingGroup != null
                        ? $"farm role running role {request.Role} as Auto Scaling group {request.AutoScalingGroup}"
                        : $"farm role running role {request.Role} with {request.InstanceIds.Count} server(s), count {request.Count}",
                    Description = $"Bring {(request.AutoScalingGroup != null ? $"Auto Scaling group {request.AutoScalingGroup}" : $"{request.InstanceIds.Count} server(s)")} in as farm role {request.Farm}/{request.Alias}",
                },
                () => _inner.NewFarmRole(request, cancellationToken),
                farmRole => $"farm role {farmRole} running role {farmRole.Role}, count {farmRole.DesiredCount}",
                servers: request.InstanceIds.ToList());
        }
    }
}

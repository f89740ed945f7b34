using System.Threading.Tasks;
using Amazon.EC2;
using Amazon.EC2.Model;
using Rebundle.Aws.Ec2;
using Rebundle.Backends;
using Rebundle.Errors;

namespace Rebundle.Aws
{
    /// <summary>
    /// Permissions checked before a run changes anything: each EC2 action the run needs is sent
    /// once with DryRun on one of the objects it will change. EC2 checks the permission and
    /// answers DryRunOperation (allowed) or UnauthorizedOperation (missing); nothing changes.
    /// It holds no state: every check asks EC2 afresh (a template's id it may take from a shared view).
    /// </summary>
    internal sealed class AwsPermissionCheck : IPermissionCheck
    {
        private const string PreflightName = "ttm-preflight-check";

        private readonly Ec2Calls _calls;
        private readonly Ec2Reads _reads;
        private readonly AwsSharedReads _shared;
        private readonly Elb.Elbv2Calls _elb;
        private readonly AutoScaling.AutoScalingCalls _autoScaling;
        private readonly Ssm.SsmCalls _ssm;

        public AwsPermissionCheck(Ec2Calls calls, Ec2Reads reads, AwsSharedReads shared, Elb.Elbv2Calls elb, AutoScaling.AutoScalingCalls autoScaling, Ssm.SsmCalls ssm)
        {
            _ssm = ssm;
            _calls = calls;
            _reads = reads;
            _shared = shared;
            _elb = elb;
            _autoScaling = autoScaling;
        }

        public IReadOnlyList<MissingPermission> MissingPermissions(PermissionCheckRequest request, CancellationToken cancellationToken = default)
        {
            var checks = new List<(string Action, string NeededTo, Func<IAmazonEC2, CancellationToken, Task> DryRun)>();
            void Add(string action, string neededTo, Func<IAmazonEC2, CancellationToken, Task> dryRun) => checks.Add((action, neededTo, dryRun));

            if (request.ToImage.FirstOrDefault() is { } source)
                Add("CreateImage", "snapshot servers", (ec2, c) => ec2.CreateImageAsync(new CreateImageRequest { DryRun = true, InstanceId = source.Id, Name = PreflightName }, c));
            if (request.ToCopy.FirstOrDefault() is { } copied)
                Add("CreateLaunchTemplate", "create versioned roles", (ec2, c) => ec2.CreateLaunchTemplateAsync(new CreateLaunchTemplateRequest
                {
                    DryRun = true, LaunchTemplateName = TtmTags.RolePrefix + PreflightName, LaunchTemplateData = new RequestLaunchTemplateData { ImageId = copied.ImageId },
                }, c));
            if (request.ToReimage.FirstOrDefault() is { } reimaged)
            {
                var template = TtmTags.RoleTemplate(reimaged.Name);
                Add("CreateLaunchTemplateVersion", "give roles a new image", (ec2, c) => ec2.CreateLaunchTemplateVersionAsync(new CreateLaunchTemplateVersionRequest
                {
                    DryRun = true, LaunchTemplateName = template, LaunchTemplateData = new RequestLaunchTemplateData { ImageId = reimaged.ImageId },
                }, c));
                Add("ModifyLaunchTemplate", "make the new image a role's default", (ec2, c) => ec2.ModifyLaunchTemplateAsync(new ModifyLaunchTemplateRequest
                {
                    DryRun = true, LaunchTemplateName = template, DefaultVersion = "1",
                }, c));
            }
            if (request.ToRetag.Count > 0 && FarmRoleTemplateId(request.ToRetag[0], cancellationToken) is { } farmRoleTemplate)
            {
                Add("CreateTags", "set farm roles' roles and take farm leases", (ec2, c) => ec2.CreateTagsAsync(new CreateTagsRequest
                {
                    DryRun = true, Resources = new List<string> { farmRoleTemplate }, Tags = new List<Tag> { TtmTags.Tag(TtmTags.Lease, PreflightName) },
                }, c));
                Add("DeleteTags", "give farm leases back", (ec2, c) => ec2.DeleteTagsAsync(new DeleteTagsRequest
                {
                    DryRun = true, Resources = new List<string> { farmRoleTemplate }, Tags = new List<Tag> { TtmTags.Tag(TtmTags.Lease, PreflightName) },
                }, c));
            }
            // A group launches and terminates its own instances: EC2's RunInstances and TerminateInstances are for plain farm roles.
            if (request.ToLaunchInto.FirstOrDefault(r => !r.IsScalingGroup) is { } farmRole)
                Add("RunInstances", "launch replacement servers", (ec2, c) => ec2.RunInstancesAsync(new RunInstancesRequest
                {
                    DryRun = true, MinCount = 1, MaxCount = 1,
                    LaunchTemplate = new LaunchTemplateSpecification { LaunchTemplateName = TtmTags.RoleTemplate(farmRole.Role), Version = "$Default" },
                }, c));
            if (request.ToTerminate.FirstOrDefault(s => s.AutoScalingGroup == null) is { } old)
                Add("TerminateInstances", "terminate replaced servers", (ec2, c) => ec2.TerminateInstancesAsync(new TerminateInstancesRequest
                {
                    DryRun = true, InstanceIds = new List<string> { old.Id },
                }, c));
            if (request.ToRetire.FirstOrDefault() is { } retired)
            {
                Add("DeleteLaunchTemplate", "retire roles", (ec2, c) => ec2.DeleteLaunchTemplateAsync(new DeleteLaunchTemplateRequest
                {
                    DryRun = true, LaunchTemplateName = TtmTags.RoleTemplate(retired.Name),
                }, c));
                if (!string.IsNullOrEmpty(retired.ImageId))
                    Add("DeregisterImage", "deregister retired roles' images", (ec2, c) => ec2.DeregisterImageAsync(new DeregisterImageRequest
                    {
                        DryRun = true, ImageId = retired.ImageId, DeleteAssociatedSnapshots = true,
                    }, c));
            }

            var missing = checks.Where(check => !Allowed(check.Action, check.DryRun, cancellationToken)).Select(check => new MissingPermission("ec2:" + check.Action, check.NeededTo)).ToList();
            missing.AddRange(MissingLoadBalancing(request, cancellationToken));
            missing.AddRange(MissingAutoScaling(request, cancellationToken));
            missing.AddRange(MissingSsm(request, cancellationToken));
            return missing;
        }

        /// <summary>
        /// SSM has no DryRun either. For the servers the run's remote work reaches over SSM, its
        /// reads are sent for real on the first one: DescribeInstanceInformation, and
        /// GetCommandInvocation and CancelCommand of a command id that does not exist (allowed:
        /// InvocationDoesNotExist / InvalidCommandId; nothing is read or cancelled). SendCommand
        /// cannot be asked about without running something, nor s3:GetObject (S3 answers a missing
        /// key with 403 to a policy without s3:ListBucket): a policy lacking them fails at the
        /// first command, the OS update, before anything in the fleet has changed (docs/aws.md).
        /// </summary>
        private IEnumerable<MissingPermission> MissingSsm(PermissionCheckRequest request, CancellationToken cancellationToken)
        {
            var server = request.ToCommand.FirstOrDefault();
            if (server == null) yield break;
            const string neededTo = "run the OS update and checks over SSM";
            const string noSuchCommand = "00000000-0000-0000-0000-000000000000";
            if (Denied(() => _ssm.Agents(new[] { server.Id }, cancellationToken)))
                yield return new MissingPermission("ssm:" + Ssm.SsmCalls.DescribeInstanceInformationAction, neededTo);
            if (Denied(() => _ssm.Invocation(noSuchCommand, server.Id, server.Name, cancellationToken)))
                yield return new MissingPermission("ssm:" + Ssm.SsmCalls.GetCommandInvocationAction, neededTo);
            if (Denied(() => Absent(() => _ssm.Cancel(noSuchCommand, server.Id, server.Name), "InvalidCommandId")))
                yield return new MissingPermission("ssm:" + Ssm.SsmCalls.CancelCommandAction, neededTo);
        }

        /// <summary>Runs a call on an object that does not exist; the answer that says so means the call was allowed.</summary>
        private static void Absent(Action call, string notFoundCode)
        {
            try
            {
                call();
            }
            catch (TtmException e) when (e.BackendCode == notFoundCode)
            {
            }
        }

        /// <summary>
        /// Auto Scaling has no DryRun either: for groups a recycle launches into, its reads are
        /// really sent (DescribeAutoScalingGroups, DescribeLifecycleHooks, DescribeScalingActivities
        /// on the first group). Its changes cannot be asked about without making them; a policy
        /// lacking one fails at the hold, the first change of a group's recycle, before any launch
        /// (docs/aws.md lists every action).
        /// </summary>
        private IEnumerable<MissingPermission> MissingAutoScaling(PermissionCheckRequest request, CancellationToken cancellationToken)
        {
            var group = request.ToLaunchInto.FirstOrDefault(r => r.IsScalingGroup)?.ScalingGroup;
            if (group == null) yield break;
            const string neededTo = "recycle farm roles that are Auto Scaling groups";
            if (Denied(() => _autoScaling.DescribeGroup(group, cancellationToken)))
                yield return new MissingPermission("autoscaling:" + AutoScaling.AutoScalingCalls.DescribeAutoScalingGroupsAction, neededTo);
            if (Denied(() => _autoScaling.LifecycleHooks(group, cancellationToken)))
                yield return new MissingPermission("autoscaling:" + AutoScaling.AutoScalingCalls.DescribeLifecycleHooksAction, neededTo);
            if (Denied(() => _autoScaling.RecentActivities(group, cancellationToken)))
                yield return new MissingPermission("autoscaling:" + AutoScaling.AutoScalingCalls.DescribeScalingActivitiesAction, neededTo);
        }

        /// <summary>
        /// ELBv2 has no DryRun, so only its reads can be checked without changing anything: for
        /// load-balanced farm roles a recycle launches into, DescribeTargetGroups, then
        /// DescribeTargetGroupAttributes and DescribeTargetHealth on the first group, each really
        /// sent (they change nothing). RegisterTargets and DeregisterTargets cannot be asked
        /// about without registering: a policy lacking them fails at the first registration,
        /// before any old server is deregistered or terminated (docs/aws.md).
        /// </summary>
        private IEnumerable<MissingPermission> MissingLoadBalancing(PermissionCheckRequest request, CancellationToken cancellationToken)
        {
            var groups = request.ToLaunchInto.SelectMany(r => r.TargetGroups).Distinct(StringComparer.Ordinal).ToList();
            if (groups.Count == 0) yield break;
            const string neededTo = "read the health of replacements in target groups";
            Elb.TargetGroupInfo? first = null;
            if (Denied(() => first = _elb.DescribeTargetGroups(groups, cancellationToken).FirstOrDefault()))
                yield return new MissingPermission("elasticloadbalancing:" + Elb.Elbv2Calls.DescribeTargetGroupsAction, neededTo);
            if (first == null) yield break;
            if (Denied(() => _elb.DeregistrationDelay(first, cancellationToken)))
                yield return new MissingPermission("elasticloadbalancing:" + Elb.Elbv2Calls.DescribeTargetGroupAttributesAction, neededTo);
            if (Denied(() => _elb.DescribeTargetHealth(first, cancellationToken)))
                yield return new MissingPermission("elasticloadbalancing:" + Elb.Elbv2Calls.DescribeTargetHealthAction, neededTo);
        }

        private static bool Denied(Action read)
        {
            try
            {
                read();
                return false;
            }
            catch (TtmException e) when (e.Code == TtmErrorCode.AccessDenied && (e.BackendCode == "AccessDenied" || e.BackendCode == "UnauthorizedOperation" || e.BackendCode == "AccessDeniedException"))
            {
                return true;
            }
        }

        private bool Allowed(string action, Func<IAmazonEC2, CancellationToken, Task> dryRun, CancellationToken cancellationToken)
        {
            try
            {
                _calls.Call($"Checking permission ec2:{action}", cancellationToken, async (ec2, c) => { await dryRun(ec2, c).ConfigureAwait(false); return true; });
                // EC2 never carries out a DryRun; an EC2-compatible endpoint that ignores the flag just did.
                throw new TtmException(TtmErrorCode.BackendError,
                    $"The endpoint at {_calls.Location} carried out a DryRun of ec2:{action} instead of only checking it (EC2 answers DryRunOperation). Look for what it made, named or tagged {PreflightName}, and delete it; this endpoint cannot be checked for permissions.", action);
            }
            catch (TtmException e) when (e.BackendCode == "DryRunOperation")
            {
                return true;
            }
            catch (TtmException e) when (e.BackendCode == "UnauthorizedOperation")
            {
                return false;
            }
        }

        /// <summary>The farm role's template id (CreateTags names resources by id): from the shared view's farm roles when one is open.</summary>
        private string? FarmRoleTemplateId(Domain.FarmRole farmRole, CancellationToken cancellationToken)
        {
            var name = TtmTags.FarmRoleTemplate(farmRole.Farm, farmRole.Alias);
            var templates = _shared.IsOpen
                ? _shared.AllFarmRoleTemplates(cancellationToken)
                : _reads.Templates($"Reading farm role {farmRole}", cancellationToken, new List<Filter> { TtmTags.Filter("launch-template-name", name) });
            return templates.FirstOrDefault(t => t.LaunchTemplateName == name)?.LaunchTemplateId;
        }
    }
}

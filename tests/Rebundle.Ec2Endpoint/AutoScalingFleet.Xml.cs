using System.Linq;
using System.Xml.Linq;

namespace Rebundle.Ec2Endpoint;

/// <summary>The shapes Auto Scaling answers with (element names as the API reference spells them; lists are &lt;member&gt;s).</summary>
public sealed partial class AutoScalingFleet
{
    private XElement GroupXml(AsgGroup g, bool instances) =>
        Member(
            E("AutoScalingGroupName", g.Name),
            E("AutoScalingGroupARN", g.Arn),
            E("LaunchTemplate", E("LaunchTemplateId", g.LaunchTemplateId), E("LaunchTemplateName", g.LaunchTemplateName), E("Version", g.Version)),
            E("MinSize", g.Min),
            E("MaxSize", g.Max),
            E("DesiredCapacity", g.Desired),
            E("DefaultCooldown", g.DefaultCooldown),
            List("AvailabilityZones", new[] { Member(Zone) }),
            List("LoadBalancerNames", Enumerable.Empty<XElement>()),
            List("TargetGroupARNs", g.TargetGroupArns.Select(arn => Member(arn))),
            E("HealthCheckType", g.HealthCheckType),
            E("HealthCheckGracePeriod", (int)g.HealthCheckGracePeriod.TotalSeconds),
            instances ? List("Instances", g.Instances.Select(i => InstanceXml(g, i))) : null,
            E("CreatedTime", g.CreatedAt),
            List("SuspendedProcesses", g.Suspended.Select(s => Member(E("ProcessName", s.Process), E("SuspensionReason", s.Reason)))),
            E("VPCZoneIdentifier", "subnet-0ttm0000000000001"),
            List("EnabledMetrics", Enumerable.Empty<XElement>()),
            List("Tags", g.Tags.Select(t => Member(
                E("ResourceId", g.Name), E("ResourceType", "auto-scaling-group"), E("Key", t.Key), E("Value", t.Value), E("PropagateAtLaunch", t.PropagateAtLaunch)))),
            List("TerminationPolicies", new[] { Member("Default") }),
            E("NewInstancesProtectedFromScaleIn", g.NewInstancesProtectedFromScaleIn),
            E("ServiceLinkedRoleARN", $"arn:aws:iam::{Ec2Xml.OwnerId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"),
            E("CapacityRebalance", false),
            List("TrafficSources", g.TargetGroupArns.Select(arn => Member(E("Identifier", arn), E("Type", "elbv2")))));

    private XElement InstanceXml(AsgGroup g, AsgInstance i) =>
        Member(
            E("InstanceId", i.Id),
            E("InstanceType", i.Ec2.InstanceType),
            E("AvailabilityZone", Zone),
            E("LifecycleState", i.State),
            E("HealthStatus", i.Healthy ? "Healthy" : "Unhealthy"),
            E("LaunchTemplate", E("LaunchTemplateId", i.Ec2.LaunchTemplateId), E("LaunchTemplateName", _ec2.LaunchTemplates.FirstOrDefault(t => t.Id == i.Ec2.LaunchTemplateId)?.Name ?? g.LaunchTemplateName), E("Version", i.Version)),
            E("ProtectedFromScaleIn", i.Protected));

    private XElement ActivityXml(AsgGroup g, AsgActivity a, string elementName) =>
        E(elementName,
            E("ActivityId", a.Id),
            E("AutoScalingGroupName", g.Name),
            E("Description", a.Description),
            E("Cause", a.Cause),
            E("StartTime", a.StartTime),
            Leaf("EndTime", a.EndTime),
            E("StatusCode", a.StatusCode),
            Leaf("StatusMessage", a.StatusMessage),
            E("Progress", a.Progress),
            E("Details", $"{{\"Subnet ID\":\"subnet-0ttm0000000000001\",\"Availability Zone\":\"{Zone}\"}}"),
            E("AutoScalingGroupARN", g.Arn));

    private static XElement HookXml(AsgGroup g, AsgHook h) =>
        Member(
            E("LifecycleHookName", h.Name),
            E("AutoScalingGroupName", g.Name),
            E("LifecycleTransition", h.Transition),
            E("HeartbeatTimeout", (int)System.Math.Ceiling(h.HeartbeatTimeout.TotalSeconds)),
            E("GlobalTimeout", h.GlobalTimeoutSeconds),
            E("DefaultResult", h.DefaultResult));

    /// <summary>The one zone the fake's instances run in (EC2's placement says the same).</summary>
    private string Zone => _ec2.Settings.Region + "a";
}

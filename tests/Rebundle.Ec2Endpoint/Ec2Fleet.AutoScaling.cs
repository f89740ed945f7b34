using System;
using System.Collections.Generic;
using System.Linq;

namespace Rebundle.Ec2Endpoint;

/// <summary>What the Auto Scaling part asks of EC2: a launch from a launch template, as RunInstances would do it.</summary>
public sealed partial class Ec2Fleet
{
    /// <summary>
    /// Launches one instance at <paramref name="at"/> from the template's <paramref name="version"/>
    /// ($Default, $Latest or a number): image, type and key from that version's data, booting for
    /// BootTime, unseen for VisibilityDelay, subject to the launch faults, refused (Ec2Error, as
    /// RunInstances words it) when the template, version or image is missing or the image not
    /// available. <paramref name="seeded"/>: running since <paramref name="at"/>, seen at once, no
    /// faults and no image check (a seeded image is "made" now, though the seed dates it back).
    /// </summary>
    internal Ec2Instance LaunchForAutoScaling(string templateId, string version, IEnumerable<KeyValuePair<string, string>> tags, DateTimeOffset at, bool seeded = false)
    {
        var template = FindTemplate(templateId, null);
        var chosen = template.Version(version) ?? throw new Ec2Error("InvalidLaunchTemplateId.VersionNotFound", $"Could not find launch template version {version} of {template.Name}.");
        string? Setting(string key) => chosen.Data.TryGetValue(key, out var value) ? value : null;
        var imageId = Setting("ImageId") ?? throw new Ec2Error("MissingParameter", $"The launch template {template.Name} version {chosen.Number} has no ImageId.");
        var image = _images.FirstOrDefault(i => i.Id == imageId) ?? throw new Ec2Error("InvalidAMIID.NotFound", $"The image id '[{imageId}]' does not exist");
        if (!seeded && image.StateAt(at).State != "available")
            throw new Ec2Error("InvalidAMIID.Unavailable", $"The image id '[{imageId}]' is not available (it is {image.StateAt(at).State}).");

        var (runningAt, failsAt, impaired) = seeded ? (at, (DateTimeOffset?)null, false) : LaunchOutcome(at);
        var instance = NewInstance(imageId, Setting("InstanceType") ?? "t3.micro", Setting("KeyName"), template.Id, chosen.Number.ToString(), null, NewId("r"),
            runningAt, failsAt, impaired, launchTime: at);
        instance.VisibleAt = seeded ? DateTimeOffset.MinValue : at + Settings.VisibilityDelay;
        instance.Tags.Set(tags);
        _instances.Add(instance);
        return instance;
    }
}

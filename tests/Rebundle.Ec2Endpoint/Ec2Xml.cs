using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Xml.Linq;

namespace Rebundle.Ec2Endpoint;

/// <summary>Writes the XML shapes the EC2 Query API answers with (element names as EC2 spells them).</summary>
public static class Ec2Xml
{
    public static readonly XNamespace Ns = "http://ec2.amazonaws.com/doc/2016-11-15/";

    public const string OwnerId = "123456789012";

    public static XElement E(string name, params object?[] content) => new(Ns + name, content.Where(c => c != null));

    /// <summary>A leaf element, left out entirely when the value is null.</summary>
    public static XElement? Leaf(string name, object? value) => value == null ? null : E(name, Text(value));

    public static XElement Response(string action, params object?[] content) =>
        E(action + "Response", new object?[] { E("requestId", Guid.NewGuid().ToString()) }.Concat(content).ToArray());

    public static XElement Error(string code, string message) =>
        new("Response",
            new XElement("Errors", new XElement("Error", new XElement("Code", code), new XElement("Message", message))),
            new XElement("RequestID", Guid.NewGuid().ToString()));

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static XElement Items(string name, IEnumerable<object?> items) => E(name, items.Select(i => i is XElement e && e.Name == Ns + "item" ? e : E("item", i)).ToArray());

    public static XElement Tags(TagSet tags) =>
        Items("tagSet", tags.All.Select(t => E("item", E("key", t.Key), E("value", t.Value))));

    public static XElement Instance(Ec2Instance instance, DateTimeOffset now, TimeSpan shutdownTime, string region)
    {
        var state = instance.StateAt(now, shutdownTime);
        var running = state.Name == "running";
        return E("item",
            E("instanceId", instance.Id),
            E("imageId", instance.ImageId),
            E("instanceState", E("code", state.Code), E("name", state.Name)),
            E("privateDnsName", "ip-" + instance.PrivateIp.Replace('.', '-') + ".ec2.internal"),
            E("dnsName", ""),
            E("reason", state.ReasonMessage ?? ""),
            Leaf("keyName", instance.KeyName),
            E("amiLaunchIndex", 0),
            E("instanceType", instance.InstanceType),
            E("launchTime", Time(instance.LaunchTime)),
            E("placement", E("availabilityZone", region + "a"), E("tenancy", "default")),
            E("privateIpAddress", instance.PrivateIp),
            running ? E("ipAddress", PublicIpOf(instance.PrivateIp)) : null,
            state.ReasonCode == null ? null : E("stateReason", E("code", state.ReasonCode), E("message", state.ReasonMessage)),
            Leaf("clientToken", instance.ClientToken),
            Tags(instance.Tags));
    }

    public static XElement Image(Ec2Image image, DateTimeOffset now)
    {
        var state = image.StateAt(now);
        return E("item",
            E("imageId", image.Id),
            E("imageLocation", OwnerId + "/" + image.Name),
            E("imageState", state.State),
            E("imageOwnerId", OwnerId),
            E("creationDate", Time(image.CreatedAt)),
            E("isPublic", false),
            E("architecture", "x86_64"),
            E("imageType", "machine"),
            E("name", image.Name),
            Leaf("description", image.Description),
            E("rootDeviceType", "ebs"),
            E("rootDeviceName", "/dev/sda1"),
            Items("blockDeviceMapping", new object?[] { E("item", E("deviceName", "/dev/sda1"),
                E("ebs", E("snapshotId", image.SnapshotId), E("volumeSize", 8), E("deleteOnTermination", true), E("volumeType", "gp3"))) }),
            state.ReasonCode == null ? null : E("stateReason", E("code", state.ReasonCode), E("message", state.ReasonMessage)),
            Tags(image.Tags));
    }

    public static XElement Template(string elementName, Ec2LaunchTemplate template) =>
        E(elementName,
            E("createTime", Time(template.CreatedAt)),
            E("createdBy", "arn:aws:iam::" + OwnerId + ":user/ttm-test"),
            E("defaultVersionNumber", template.DefaultVersion),
            E("latestVersionNumber", template.LatestVersion),
            E("launchTemplateId", template.Id),
            E("launchTemplateName", template.Name),
            Tags(template.Tags));

    public static XElement Version(string elementName, Ec2LaunchTemplate template, Ec2TemplateVersion version) =>
        E(elementName,
            E("createTime", Time(version.CreatedAt)),
            E("createdBy", "arn:aws:iam::" + OwnerId + ":user/ttm-test"),
            E("defaultVersion", version.Number == template.DefaultVersion),
            LaunchDataShape.ToXml(version.Data),
            E("launchTemplateId", template.Id),
            E("launchTemplateName", template.Name),
            Leaf("versionDescription", version.Description),
            E("versionNumber", version.Number));

    private static string PublicIpOf(string privateIp) => "203.0.113." + privateIp.Split('.').Last();

    private static string Text(object value) => value switch
    {
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

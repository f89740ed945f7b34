using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Xml.Linq;
using static Rebundle.Ec2Endpoint.Ec2Xml;

namespace Rebundle.Ec2Endpoint;

/// <summary>
/// The RequestLaunchTemplateData shape: which Query keys CreateLaunchTemplate(Version) accepts
/// (the members a real template commonly carries; anything else is refused, so a test notices
/// a setting nobody checked), and how the stored keys come back as launchTemplateData XML.
/// Keys are stored as sent (<c>NetworkInterface.1.SecurityGroupId.2</c>); EC2 answers lists
/// as <c>…Set/item</c> under names that do not always follow the request's.
/// </summary>
public static class LaunchDataShape
{
    /// <summary>Top-level members (Query names) of RequestLaunchTemplateData this endpoint keeps.</summary>
    private static readonly HashSet<string> Roots = new(StringComparer.Ordinal)
    {
        "ImageId", "InstanceType", "KeyName", "UserData", "EbsOptimized", "DisableApiTermination", "DisableApiStop",
        "InstanceInitiatedShutdownBehavior", "KernelId", "RamDiskId", "Monitoring", "IamInstanceProfile", "SecurityGroupId",
        "SecurityGroup", "BlockDeviceMapping", "NetworkInterface", "TagSpecification", "Placement", "CreditSpecification",
        "MetadataOptions", "CpuOptions", "CapacityReservationSpecification", "HibernationOptions", "EnclaveOptions",
        "MaintenanceOptions", "PrivateDnsNameOptions", "InstanceMarketOptions", "LicenseSpecification", "ElasticGpuSpecification",
    };

    /// <summary>Request list name → response element, where EC2 names it otherwise than lowerCamel + "Set".</summary>
    private static readonly Dictionary<string, string> ListNames = new(StringComparer.Ordinal)
    {
        ["LicenseSpecification"] = "licenseSet",
        ["Tag"] = "tagSet",
    };

    public static bool Accepts(string key)
    {
        var root = key.Split('.')[0];
        return Roots.Contains(root);
    }

    public static XElement ToXml(IReadOnlyDictionary<string, string> data) =>
        E("launchTemplateData", Children(data.Select(p => (Path: p.Key.Split('.'), p.Value)).ToList(), parent: null));

    /// <summary>The elements for keys that all share the path so far (cut off), grouped by their next segment.</summary>
    private static IEnumerable<object?> Children(List<(string[] Path, string Value)> keys, string? parent)
    {
        foreach (var group in keys.GroupBy(k => k.Path[0]).OrderBy(g => Camel(g.Key), StringComparer.Ordinal))
        {
            var name = group.Key;
            var leaf = group.FirstOrDefault(k => k.Path.Length == 1);
            if (leaf.Path != null)
            {
                yield return E(Camel(name), leaf.Value);
                continue;
            }
            var rest = group.Select(k => (Path: k.Path.Skip(1).ToArray(), k.Value)).ToList();
            if (int.TryParse(rest[0].Path[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            {
                var (setName, itemName) = ListName(name, parent);
                yield return E(setName, rest.GroupBy(k => int.Parse(k.Path[0], CultureInfo.InvariantCulture)).OrderBy(g => g.Key).Select(item =>
                {
                    var inner = item.Select(k => (Path: k.Path.Skip(1).ToArray(), k.Value)).ToList();
                    // A list of strings (SecurityGroupId.N) has values, not members.
                    return (object?)(inner.Count == 1 && inner[0].Path.Length == 0 ? E(itemName, inner[0].Value) : E(itemName, Children(inner, name).ToArray()));
                }));
            }
            else
            {
                yield return E(Camel(name), Children(rest, name).ToArray());
            }
        }
    }

    private static (string Set, string Item) ListName(string name, string? parent)
    {
        // A network interface's security groups: SecurityGroupId.N in the request, groupSet/groupId in the answer.
        if (parent == "NetworkInterface" && name == "SecurityGroupId") return ("groupSet", "groupId");
        return (ListNames.TryGetValue(name, out var special) ? special : Camel(name) + "Set", "item");
    }

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name.Substring(1);
}

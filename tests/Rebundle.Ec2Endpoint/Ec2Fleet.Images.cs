using System;
using System.Linq;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using static Rebundle.Ec2Endpoint.Ec2Xml;

namespace Rebundle.Ec2Endpoint;

/// <summary>Images: CreateImage and DescribeImages.</summary>
public sealed partial class Ec2Fleet
{
    private static readonly Regex ImageName = new(@"^[A-Za-z0-9()\[\] ./\-'@_]{3,128}$");

    private XElement CreateImage(QueryRequest r)
    {
        var instanceId = r.Require("InstanceId");
        var name = r.Require("Name");
        if (!ImageName.IsMatch(name))
            throw new Ec2Error("InvalidAMIName.Malformed", $"AMI name '{name}' is invalid: use 3 to 128 letters, digits and ( ) [ ] space . / - ' @ _");
        var instance = _instances.FirstOrDefault(i => i.Id == instanceId)
            ?? throw new Ec2Error("InvalidInstanceID.NotFound", $"The instance ID '{instanceId}' does not exist");
        var state = instance.StateAt(Now, Settings.ShutdownTime).Name;
        if (state != "running" && state != "stopped")
            throw new Ec2Error("IncorrectInstanceState", $"The instance '{instanceId}' is not in a state from which it can be imaged (it is {state}).");
        if (_images.Any(i => i.Name == name))
            throw new Ec2Error("InvalidAMIName.Duplicate", $"AMI name {name} is already in use by AMI {_images.First(i => i.Name == name).Id}");

        var image = new Ec2Image
        {
            Id = NewId("ami"), Name = name, Description = r.Get("Description"), SourceInstanceId = instanceId,
            CreatedAt = Now, ReadyAt = Now + Settings.ImageTime, Transient = Settings.ImageTransientTime, SnapshotId = NewSnapshot(),
            Fails = Faults.FailingImageNames.Any(pattern => Wildcard(name, pattern)),
        };
        image.VisibleAt = VisibleFromNow;
        image.Tags.Set(r.TagsFor("image"));
        _images.Add(image);
        // Unless told NoReboot, EC2 shuts the instance down for the image and boots it again:
        // it stays "running", but its status checks are gone until it is back.
        if (!r.Bool("NoReboot")) instance.RebootedAt = Now;
        return Response("CreateImage", E("imageId", image.Id));
    }

    /// <summary>
    /// Removes the image; with DeleteAssociatedSnapshots also its EBS snapshot, unless another
    /// image uses that snapshot too (EC2 then skips it and still deregisters the image).
    /// </summary>
    private XElement DeregisterImage(QueryRequest r)
    {
        var id = r.Require("ImageId");
        var image = _images.FirstOrDefault(i => i.Id == id) ?? throw new Ec2Error("InvalidAMIID.NotFound", $"The image id '[{id}]' does not exist");
        _images.Remove(image);
        if (!r.Bool("DeleteAssociatedSnapshots")) return Response("DeregisterImage", E("return", true));
        var shared = _images.Any(i => i.SnapshotId == image.SnapshotId);
        if (!shared) _snapshots.Remove(image.SnapshotId);
        return Response("DeregisterImage", E("return", true),
            Items("deleteSnapshotResultSet", new object?[] { E("item", E("snapshotId", image.SnapshotId), E("returnCode", shared ? "skipped" : "success")) }));
    }

    private XElement DescribeImages(QueryRequest r)
    {
        var ids = r.List("ImageId");
        var visible = _images.Where(i => Seen(i.VisibleAt)).ToList();
        var missing = ids.Where(id => visible.All(i => i.Id != id)).ToList();
        if (missing.Count > 0)
            throw new Ec2Error("InvalidAMIID.NotFound", $"The image id '[{string.Join(", ", missing)}]' does not exist");
        var owners = r.List("Owner");
        if (owners.Any(o => o != "self" && o != OwnerId))
            return Response("DescribeImages", Items("imagesSet", Array.Empty<object?>()));

        var filters = r.Filters();
        var now = Now;
        var matching = visible
            .Where(i => ids.Count == 0 || ids.Contains(i.Id))
            .Where(i => Passes(filters, name => name switch
            {
                "image-id" => new[] { i.Id },
                "name" => new[] { i.Name },
                "state" => new[] { i.StateAt(now).State },
                _ => TagValues(name, i.Tags),
            }, "images"))
            .ToList();
        var (page, next) = Page(matching, r, 5, 1000);
        return Response("DescribeImages", Items("imagesSet", page.Select(i => (object?)Image(i, now))), Leaf("nextToken", next));
    }
}

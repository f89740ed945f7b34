using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>
/// A role template as real accounts have them (network interfaces, KMS-encrypted volumes, IMDSv2,
/// instance profile, tag specifications, …), made through the real SDK: a new versioned role's
/// template carries every one of its settings but the image.
/// </summary>
public class FullLaunchTemplateTests
{
    private static RequestLaunchTemplateData FullData(string imageId) => new()
    {
        ImageId = imageId,
        InstanceType = InstanceType.T3Large,
        KeyName = "ops-2024",
        EbsOptimized = true,
        DisableApiTermination = true,
        InstanceInitiatedShutdownBehavior = ShutdownBehavior.Terminate,
        UserData = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("#!/bin/bash\necho hello\n")),
        IamInstanceProfile = new LaunchTemplateIamInstanceProfileSpecificationRequest { Arn = "arn:aws:iam::123456789012:instance-profile/rails-app" },
        Monitoring = new LaunchTemplatesMonitoringRequest { Enabled = true },
        Placement = new LaunchTemplatePlacementRequest { AvailabilityZone = "us-east-1b", Tenancy = Tenancy.Default },
        CreditSpecification = new CreditSpecificationRequest { CpuCredits = "unlimited" },
        MetadataOptions = new LaunchTemplateInstanceMetadataOptionsRequest
        {
            HttpTokens = LaunchTemplateHttpTokensState.Required, HttpPutResponseHopLimit = 2,
            HttpEndpoint = LaunchTemplateInstanceMetadataEndpointState.Enabled, InstanceMetadataTags = LaunchTemplateInstanceMetadataTagsState.Enabled,
        },
        NetworkInterfaces = new List<LaunchTemplateInstanceNetworkInterfaceSpecificationRequest>
        {
            new()
            {
                DeviceIndex = 0, SubnetId = "subnet-0a1b2c3d", AssociatePublicIpAddress = false, DeleteOnTermination = true,
                Description = "primary", Groups = new List<string> { "sg-0aaa1111", "sg-0bbb2222" },
            },
        },
        BlockDeviceMappings = new List<LaunchTemplateBlockDeviceMappingRequest>
        {
            new()
            {
                DeviceName = "/dev/xvda",
                Ebs = new LaunchTemplateEbsBlockDeviceRequest
                {
                    VolumeSize = 50, VolumeType = VolumeType.Gp3, Iops = 3000, Throughput = 125, DeleteOnTermination = true,
                    Encrypted = true, KmsKeyId = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                },
            },
            new() { DeviceName = "/dev/sdb", VirtualName = "ephemeral0" },
        },
        TagSpecifications = new List<LaunchTemplateTagSpecificationRequest>
        {
            new() { ResourceType = ResourceType.Instance, Tags = new List<Tag> { new() { Key = "team", Value = "rails" }, new() { Key = "cost-center", Value = "42" } } },
            new() { ResourceType = ResourceType.Volume, Tags = new List<Tag> { new() { Key = "backup", Value = "daily" } } },
        },
        HibernationOptions = new LaunchTemplateHibernationOptionsRequest { Configured = false },
        MaintenanceOptions = new LaunchTemplateInstanceMaintenanceOptionsRequest { AutoRecovery = LaunchTemplateAutoRecoveryState.Default },
        PrivateDnsNameOptions = new LaunchTemplatePrivateDnsNameOptionsRequest { HostnameType = HostnameType.ResourceName, EnableResourceNameDnsARecord = true },
    };

    [Fact]
    public void A_new_role_reproduces_every_setting_of_a_full_template_except_the_image()
    {
        using var fleet = new AwsFleet();
        using var ec2 = new AmazonEC2Client(new BasicAWSCredentials(TestAwsEnvironment.AccessKey, TestAwsEnvironment.SecretKey),
            new AmazonEC2Config { ServiceURL = fleet.Endpoint.Url.ToString(), AuthenticationRegion = TestAwsEnvironment.Region });
        var oldImage = fleet.Ec2.AddImage("RailsFull-1-6");
        var newImage = fleet.Ec2.AddImage("RailsFull-1-7");
        ec2.CreateLaunchTemplateAsync(new CreateLaunchTemplateRequest
        {
            LaunchTemplateName = "role/RailsFull",
            LaunchTemplateData = FullData(oldImage.Id),
            TagSpecifications = new List<TagSpecification>
            {
                new() { ResourceType = ResourceType.LaunchTemplate, Tags = new List<Tag> { new() { Key = "ttm:kind", Value = "role" }, new() { Key = "ttm:role", Value = "RailsFull" } } },
            },
        }).GetAwaiter().GetResult();
        fleet.Clock.Advance(AwsFleet.StrictVisibilityDelay); // made a while ago: EC2 lists it
        ResponseLaunchTemplateData Read(string name) => ec2.DescribeLaunchTemplateVersionsAsync(new DescribeLaunchTemplateVersionsRequest
        {
            LaunchTemplateName = name, Versions = new List<string> { "$Default" },
        }).GetAwaiter().GetResult().LaunchTemplateVersions.Single().LaunchTemplateData;

        fleet.Backend.CreateRole("RailsFull-1-7", fleet.Fleet.Roles().Require("RailsFull"), newImage.Id);
        fleet.Clock.Advance(AwsFleet.StrictVisibilityDelay);

        var source = Read("role/RailsFull");
        var copy = Read("role/RailsFull-1-7");
        // The endpoint gave the full shape back (so the comparison below is about something)…
        var sent = typeof(RequestLaunchTemplateData).GetProperties().Where(p => p.GetValue(FullData(oldImage.Id)) != null).Select(p => p.Name).ToList();
        Assert.True(sent.Count >= 18, $"the full template sets only {sent.Count} settings");
        Assert.DoesNotContain(sent, name => typeof(ResponseLaunchTemplateData).GetProperty(name)?.GetValue(source) == null);
        Assert.Equal(LaunchTemplateHttpTokensState.Required, source.MetadataOptions.HttpTokens);
        Assert.EndsWith("key/1234abcd-12ab-34cd-56ef-1234567890ab", source.BlockDeviceMappings[0].Ebs.KmsKeyId);
        Assert.Equal(new[] { "sg-0aaa1111", "sg-0bbb2222" }, source.NetworkInterfaces[0].Groups);
        Assert.Equal(2, source.TagSpecifications[0].Tags.Count);
        Assert.Equal("unlimited", source.CreditSpecification.CpuCredits);
        // …and the new role has every one of its settings, with the new image.
        Assert.Equal(newImage.Id, copy.ImageId);
        Assert.Equal(Settings(source), Settings(copy));
        Assert.True(copy.BlockDeviceMappings[0].Ebs.Encrypted);
        Assert.Equal("arn:aws:iam::123456789012:instance-profile/rails-app", copy.IamInstanceProfile.Arn);
        Assert.Equal("daily", copy.TagSpecifications.Single(t => t.ResourceType == ResourceType.Volume).Tags.Single().Value);
        Assert.True(copy.Monitoring.Enabled);
        Assert.Equal("us-east-1b", copy.Placement.AvailabilityZone);
    }

    /// <summary>Every setting but the image, as JSON: property by property, lists and nested settings included.</summary>
    private static string Settings(ResponseLaunchTemplateData data)
    {
        var json = JsonSerializer.SerializeToNode(data)!.AsObject();
        json.Remove("ImageId");
        var text = json.ToJsonString();
        Assert.Contains("HttpTokens", text);
        return text;
    }
}

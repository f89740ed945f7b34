using System.Collections.Generic;
using Amazon.EC2;
using Amazon.EC2.Model;
using Xunit;

namespace Rebundle.Aws.Tests;

/// <summary>
/// A new versioned role keeps every launch setting of its source role, including those the
/// loopback endpoint does not model (checked here on the SDK's own types).
/// </summary>
public class LaunchDataCopyTests
{
    [Fact]
    public void Nested_settings_and_lists_are_copied_into_their_request_twins()
    {
        var source = new ResponseLaunchTemplateData
        {
            ImageId = "ami-old",
            InstanceType = InstanceType.M5Large,
            EbsOptimized = true,
            NetworkInterfaces = new List<LaunchTemplateInstanceNetworkInterfaceSpecification>
            {
                new() { DeviceIndex = 0, SubnetId = "subnet-1", AssociatePublicIpAddress = true, Groups = new List<string> { "sg-1", "sg-2" } },
            },
            MetadataOptions = new LaunchTemplateInstanceMetadataOptions { HttpTokens = LaunchTemplateHttpTokensState.Required, HttpPutResponseHopLimit = 2 },
            TagSpecifications = new List<LaunchTemplateTagSpecification>
            {
                new() { ResourceType = ResourceType.Volume, Tags = new List<Tag> { new() { Key = "team", Value = "ops" } } },
            },
            Placement = new LaunchTemplatePlacement { AvailabilityZone = "us-east-1b" },
        };

        var copy = LaunchDataCopy.ToRequest(source);

        Assert.Equal("ami-old", copy.ImageId);
        Assert.Equal(InstanceType.M5Large, copy.InstanceType);
        Assert.True(copy.EbsOptimized);
        var nic = Assert.Single(copy.NetworkInterfaces);
        Assert.Equal("subnet-1", nic.SubnetId);
        Assert.True(nic.AssociatePublicIpAddress);
        Assert.Equal(new[] { "sg-1", "sg-2" }, nic.Groups);
        Assert.Equal(LaunchTemplateHttpTokensState.Required, copy.MetadataOptions.HttpTokens);
        Assert.Equal(2, copy.MetadataOptions.HttpPutResponseHopLimit);
        Assert.Equal("ops", Assert.Single(Assert.Single(copy.TagSpecifications).Tags).Value);
        Assert.Equal("us-east-1b", copy.Placement.AvailabilityZone);
        Assert.Null(copy.KeyName);
    }
}

using System.Runtime.CompilerServices;
using Rebundle.TestKit;

namespace Rebundle.Aws.Tests;

internal static class AwsEnvironment
{
    /// <summary>The AWS SDK's credential chain set up for the loopback EC2 endpoint before any test runs.</summary>
    [ModuleInitializer]
    internal static void Initialize() => TestAwsEnvironment.Initialize();
}

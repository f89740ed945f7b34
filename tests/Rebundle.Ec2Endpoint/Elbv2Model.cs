using System;
using System.Collections.Generic;

namespace Rebundle.Ec2Endpoint;

/// <summary>
/// An ELBv2 target group (instance targets, one port) with the health-check settings that decide
/// how soon a registered target turns healthy: <see cref="HealthCheckInterval"/> ×
/// <see cref="HealthyThreshold"/>. Sub-second intervals are allowed so that the Pester tests,
/// which run on the wall clock, stay fast.
/// </summary>
public sealed class Elbv2TargetGroup
{
    public string Name { get; init; } = "";
    public string Arn { get; init; } = "";
    public int Port { get; init; } = 80;
    public TimeSpan DeregistrationDelay { get; set; } = TimeSpan.FromSeconds(300);
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(30);
    public int HealthyThreshold { get; set; } = 5;

    /// <summary>How long a newly registered target stays "initial".</summary>
    public TimeSpan TimeToHealthy => TimeSpan.FromTicks(HealthCheckInterval.Ticks * HealthyThreshold);

    /// <summary>Registered (and draining) targets by instance id, in registration order.</summary>
    public List<Elbv2Target> Targets { get; } = new();
}

/// <summary>One registration of an instance in a target group. Its state follows from timestamps, as instances' do.</summary>
public sealed class Elbv2Target
{
    public string InstanceId { get; init; } = "";
    public DateTimeOffset RegisteredAt { get; set; }
    public DateTimeOffset? DeregisteredAt { get; set; }

    /// <summary>Since when it fails its health checks (a test's hook, or a registration the faults made fail), until cleared; null while it passes them.</summary>
    public DateTimeOffset? UnhealthySince { get; set; }

    public bool Unhealthy => UnhealthySince != null;
}

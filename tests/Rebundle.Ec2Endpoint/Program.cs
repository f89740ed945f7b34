using System;
using System.Globalization;
using System.Threading;
using Rebundle.Ec2Endpoint;

// dotnet Rebundle.Ec2Endpoint.dll [--port 0] [--seed runbook] [--boot-seconds 2] [--image-seconds 3]
//   [--shutdown-seconds 1] [--status-check-seconds 0] [--status-report-seconds 0] [--insufficient-data-seconds 0] [--visibility-seconds 0] [--reboot-seconds 1] [--page-size 1000] [--access-key KEY] [--secret-key SECRET] [--region us-east-1] [--lifetime-seconds 1800]
//   [--seed-target-groups [--deregistration-delay-seconds 1] [--health-check-interval-seconds 0.2] [--healthy-threshold 2]] [--seed-auto-scaling-groups]
//   [--ssm [--ssm-bucket NAME]] [--ssm-not-yet-visible-seconds 2] [--ssm-reboot-seconds 5] [--ssm-cancel-seconds 1]
// Prints the endpoint URL as the first line of stdout, then serves until stopped (Ctrl+C,
// SIGTERM) or until the lifetime ends, so a forgotten test process never runs for ever.
var settings = new Ec2Settings { BootTime = TimeSpan.FromSeconds(2), ImageTime = TimeSpan.FromSeconds(3), ShutdownTime = TimeSpan.FromSeconds(1), RebootTime = TimeSpan.FromSeconds(1) };
var port = 0;
var seed = "none";
var lifetime = TimeSpan.FromMinutes(30);
var accessKey = Ec2Settings.TestAccessKey;
var secretKey = Ec2Settings.TestSecretKey;
// --seed-target-groups: Dev's and Production's RailsAppServer and NodeAppServer behind a target group each (RunbookSeed).
var targetGroups = false;
var targetGroupSeed = TargetGroupSeed.Default;
// --seed-auto-scaling-groups: those farm roles are Auto Scaling groups, Production-RailsAppServer… (RunbookSeed; implies the target groups).
var autoScalingGroups = false;
// --ssm: every seeded running instance a Systems Manager managed instance, its agent Online (SsmFleet), and every instance launched later once it runs; --ssm-bucket: an S3 bucket for command output.
var ssm = false;
var ssmBuckets = new System.Collections.Generic.List<string>();
var fleetSsm = new System.Collections.Generic.List<Action<SsmFleet>>();
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    double Seconds() => double.Parse(Next(), CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--port": port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = Next(); break;
        case "--boot-seconds": settings.BootTime = TimeSpan.FromSeconds(Seconds()); break;
        case "--image-seconds": settings.ImageTime = TimeSpan.FromSeconds(Seconds()); break;
        case "--shutdown-seconds": settings.ShutdownTime = TimeSpan.FromSeconds(Seconds()); break;
        case "--reboot-seconds": settings.RebootTime = TimeSpan.FromSeconds(Seconds()); break;
        case "--status-check-seconds": settings.StatusCheckTime = TimeSpan.FromSeconds(Seconds()); break;
        case "--status-report-seconds": settings.StatusReportDelay = TimeSpan.FromSeconds(Seconds()); break;
        case "--insufficient-data-seconds": settings.InsufficientDataTime = TimeSpan.FromSeconds(Seconds()); break;
        case "--visibility-seconds": settings.VisibilityDelay = TimeSpan.FromSeconds(Seconds()); break;
        case "--page-size": settings.MaxPageSize = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--access-key": accessKey = Next(); break;
        case "--secret-key": secretKey = Next(); break;
        case "--region": settings.Region = Next(); break;
        case "--lifetime-seconds": lifetime = TimeSpan.FromSeconds(Seconds()); break;
        case "--seed-target-groups": targetGroups = true; break;
        case "--seed-auto-scaling-groups": autoScalingGroups = true; break;
        case "--ssm": ssm = true; break;
        case "--ssm-bucket": ssmBuckets.Add(Next()); break;
        case "--ssm-not-yet-visible-seconds": { var unseen = TimeSpan.FromSeconds(Seconds()); fleetSsm.Add(f => f.NotYetVisibleFor = unseen); break; }
        case "--ssm-reboot-seconds": { var reboot = TimeSpan.FromSeconds(Seconds()); fleetSsm.Add(f => f.RebootTime = reboot); break; }
        case "--ssm-cancel-seconds": { var cancel = TimeSpan.FromSeconds(Seconds()); fleetSsm.Add(f => f.CancelTime = cancel); break; }
        case "--deregistration-delay-seconds": targetGroupSeed = targetGroupSeed with { DeregistrationDelay = TimeSpan.FromSeconds(Seconds()) }; break;
        case "--health-check-interval-seconds": targetGroupSeed = targetGroupSeed with { Interval = TimeSpan.FromSeconds(Seconds()) }; break;
        case "--healthy-threshold": targetGroupSeed = targetGroupSeed with { HealthyThreshold = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        default:
            Console.Error.WriteLine($"Unknown option {args[i]}.");
            return 2;
    }
}

settings.UseKey(accessKey, secretKey);
var fleet = new Ec2Fleet(settings);
if (seed == "runbook") RunbookSeed.Apply(fleet, targetGroups || autoScalingGroups ? targetGroupSeed : null, autoScalingGroups ? new AutoScalingSeed() : null);
else if (seed != "none")
{
    Console.Error.WriteLine($"Unknown seed '{seed}'; use 'runbook' or 'none'.");
    return 2;
}

fleetSsm.ForEach(set => set(fleet.Ssm));
ssmBuckets.ForEach(fleet.Ssm.AddBucket);
if (ssm)
{
    fleet.Ssm.RegisterRunningInstances();
    fleet.Ssm.RegisterLaunched = true;
}

using var endpoint = Ec2Endpoint.Start(fleet, port);
Console.Out.WriteLine(endpoint.Url);
Console.Out.Flush();

using var stop = new CancellationTokenSource(lifetime);
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
// SIGTERM (Stop-TestEc2Endpoint): the SSM agents' processes and folders go first, then the process at once
// (as the kill it replaces: answers held by a stall would keep a graceful stop waiting).
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    fleet.DisposeSsm();
    Environment.Exit(0);
});
AppDomain.CurrentDomain.ProcessExit += (_, _) =>
{
    try { stop.Cancel(); }
    catch (ObjectDisposedException) { } // main has returned: the process is exiting anyway
    // SIGTERM ends the process once this returns, before the endpoint is disposed: the SSM agents' processes and folders go now.
    fleet.DisposeSsm();
};
stop.Token.WaitHandle.WaitOne();
return 0;

using System;
using System.Runtime.InteropServices;
using System.Threading;
using Rebundle.ScalrApi;

// dotnet Rebundle.ScalrApi.dll --port 0 --key-id K --secret S --env 5 --seed runbook [--ec2-endpoint URL]
//   [--page-size 3] [--boot-seconds 2] [--terminate-seconds 1] [--scaling-seconds 60 (0: off)] [--region us-east-1]
//   [--ec2-access-key AKID...] [--ec2-secret-key SECRET] [--lifetime-seconds 1800]
// Prints its URL as the first line of stdout, then serves until Ctrl+C, SIGTERM, stdin closes,
// or the lifetime ends (so a forgotten test process never runs for ever).
var options = new ScalrApiOptions();
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--port": options.Port = int.Parse(Next()); break;
        case "--key-id": options.KeyId = Next(); break;
        case "--secret": options.Secret = Next(); break;
        case "--env": options.EnvironmentId = Next(); break;
        case "--seed": options.Seed = Next(); break;
        case "--ec2-endpoint": options.Ec2Endpoint = Next(); break;
        case "--page-size": options.PageSize = int.Parse(Next()); break;
        case "--boot-seconds": options.BootDelay = TimeSpan.FromSeconds(double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture)); break;
        case "--terminate-seconds": options.TerminateDelay = TimeSpan.FromSeconds(double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture)); break;
        case "--scaling-seconds": options.ScalingInterval = TimeSpan.FromSeconds(double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture)); break;
        case "--region": options.Region = Next(); break;
        case "--ec2-access-key": options.Ec2AccessKey = Next(); break;
        case "--ec2-secret-key": options.Ec2SecretKey = Next(); break;
        case "--lifetime-seconds": options.Lifetime = TimeSpan.FromSeconds(double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture)); break;
        default:
            Console.Error.WriteLine($"Unknown option {args[i]}.");
            return 2;
    }
}

await using var server = new ScalrApiServer(options);
await server.StartAsync();
Console.Out.WriteLine(server.Url.ToString().TrimEnd('/'));
Console.Out.Flush();

using var stop = new ManualResetEventSlim();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Set(); };
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
if (Console.IsInputRedirected)
{
    // The parent closing our stdin means it is gone: stop with it.
    new Thread(() => { while (Console.In.Read() >= 0) { } stop.Set(); }) { IsBackground = true }.Start();
}
stop.Wait(options.Lifetime);
return 0;

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Rebundle.Domain;
using Rebundle.Runbook;
using Rebundle.Sandbox;

namespace Rebundle.TestKit;

/// <summary>A fresh Sandbox in a temporary folder, on a clock the test drives.</summary>
public sealed class TestFleet : IDisposable
{
    public TestFleet()
    {
        Directory = Path.Combine(Path.GetTempPath(), "rebundle-test-" + Guid.NewGuid().ToString("n"));
        Clock = new ManualClock(new DateTimeOffset(2026, 4, 1, 9, 0, 0, TimeSpan.Zero));
        Backend = SandboxBackend.Open(Directory, clock: Clock);
        Fleet = new Fleet(Backend);
    }

    public string Directory { get; }

    public ManualClock Clock { get; }

    public SandboxBackend Backend { get; }

    public Fleet Fleet { get; }

    public RecordingReporter Reporter { get; } = new RecordingReporter();

    public string StatePath => Path.Combine(Directory, SandboxBackend.FileName);

    public SandboxBackend Reopen() => SandboxBackend.Open(Directory, clock: Clock);

    public Server Server(string farm, string alias, int index = 1) =>
        Fleet.GetServers(new[] { farm }, new[] { alias }, null).Items.Single(s => s.Index == index);

    public IReadOnlyList<Server> Servers(string farm, string? alias = null) =>
        Fleet.GetServers(new[] { farm }, alias == null ? null : new[] { alias }, null).Items;

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

using System.Collections.Concurrent;
using Rebundle.Runbook;

namespace Rebundle.Ssh.Tests.Fixture;

/// <summary>Collects what the core reports, and on which thread, so tests can check both.</summary>
public sealed class TestReporter : IRunbookReporter
{
    public ConcurrentQueue<ProgressReport> Progresses { get; } = new();

    public ConcurrentQueue<string> Messages { get; } = new();

    public ConcurrentQueue<string> Warnings { get; } = new();

    public ConcurrentBag<int> Threads { get; } = new();

    public void Progress(ProgressReport report)
    {
        Threads.Add(Environment.CurrentManagedThreadId);
        Progresses.Enqueue(report);
    }

    public void Verbose(string message)
    {
        Threads.Add(Environment.CurrentManagedThreadId);
        Messages.Enqueue(message);
    }

    public void Warning(string message)
    {
        Threads.Add(Environment.CurrentManagedThreadId);
        Warnings.Enqueue(message);
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Rebundle.Runbook;

namespace Rebundle.TestKit;

/// <summary>
/// Collects what the runbook services (or the remote runner) report, and on which thread, so a
/// test can check both. Safe to report to from several threads; every list is a copy.
/// </summary>
public sealed class RecordingReporter : IRunbookReporter
{
    private readonly object _gate = new();
    private readonly List<ProgressReport> _progress = new();
    private readonly List<string> _verbose = new();
    private readonly List<string> _warnings = new();
    private readonly List<string> _messages = new();
    private readonly List<int> _threads = new();

    /// <summary>Every progress report, in order.</summary>
    public IReadOnlyList<ProgressReport> Progress => Copy(_progress);

    /// <summary>Every verbose message, in order.</summary>
    public IReadOnlyList<string> Verbose => Copy(_verbose);

    /// <summary>Every warning, in order.</summary>
    public IReadOnlyList<string> Warnings => Copy(_warnings);

    /// <summary>Verbose messages and warnings in the order they came, each warning as "WARNING: " and its text.</summary>
    public IReadOnlyList<string> Messages => Copy(_messages);

    /// <summary>The managed thread of every report.</summary>
    public IReadOnlyList<int> Threads => Copy(_threads);

    void IRunbookReporter.Progress(ProgressReport report)
    {
        lock (_gate)
        {
            _threads.Add(Environment.CurrentManagedThreadId);
            _progress.Add(report);
        }
    }

    void IRunbookReporter.Verbose(string message)
    {
        lock (_gate)
        {
            _threads.Add(Environment.CurrentManagedThreadId);
            _verbose.Add(message);
            _messages.Add(message);
        }
    }

    void IRunbookReporter.Warning(string message)
    {
        lock (_gate)
        {
            _threads.Add(Environment.CurrentManagedThreadId);
            _warnings.Add(message);
            _messages.Add("WARNING: " + message);
        }
    }

    private IReadOnlyList<T> Copy<T>(List<T> list)
    {
        lock (_gate) return list.ToList();
    }
}

/// <summary>Hears every report and keeps none.</summary>
public sealed class SilentReporter : IRunbookReporter
{
    public void Progress(ProgressReport report) { }

    public void Verbose(string message) { }

    public void Warning(string message) { }
}

/// <summary>Ctrl+C as an operator presses it: once the wait for replacements has polled once.</summary>
public sealed class CancelOnFirstPoll : IRunbookReporter
{
    private readonly CancellationTokenSource _cancel;

    public CancelOnFirstPoll(CancellationTokenSource cancel) => _cancel = cancel;

    public void Progress(ProgressReport report)
    {
        if (report.Activity.StartsWith("Waiting for replacements", StringComparison.Ordinal) && !report.Completed) _cancel.Cancel();
    }

    public void Verbose(string message) { }

    public void Warning(string message) { }
}

/// <summary>Cancels (as Ctrl+C would) once the recycle reports its n-th launch.</summary>
public sealed class StopAtLaunch : IRunbookReporter
{
    private readonly int _n;
    private readonly CancellationTokenSource _stop;
    private int _launches;

    public StopAtLaunch(int n, CancellationTokenSource stop)
    {
        _n = n;
        _stop = stop;
    }

    public void Progress(ProgressReport report) { }

    public void Verbose(string message)
    {
        if (message.StartsWith("Launched ", StringComparison.Ordinal) && ++_launches == _n) _stop.Cancel();
    }

    public void Warning(string message) { }
}

using System.Collections.Concurrent;
using System.Threading.Tasks;
using Rebundle.Errors;
using Rebundle.Runbook;

namespace Rebundle.Remote
{
    /// <summary>How the work on one server ended: its result, or the error that stopped it.</summary>
    public sealed record RemoteOutcome<T>(SshConnectionSettings Target, T? Result, TtmException? Error)
    {
        public bool Failed => Error != null;
    }

    /// <summary>What a piece of remote work gets: an open shell, a way to reconnect, a reporter and cancellation.</summary>
    public sealed class RemoteWork
    {
        internal RemoteWork(SshConnectionSettings target, IRemoteShell shell, IRemoteShellFactory factory, IRunbookReporter reporter, CancellationToken cancellation)
        {
            Target = target;
            Shell = shell;
            Factory = factory;
            Reporter = reporter;
            Cancellation = cancellation;
        }

        public SshConnectionSettings Target { get; }

        /// <summary>The open connection. Work that drops it (a reboot) reconnects with <see cref="Factory"/>.</summary>
        public IRemoteShell Shell { get; internal set; }

        public IRemoteShellFactory Factory { get; }

        /// <summary>Safe to call from the worker thread: reports reach the caller's reporter on the caller's thread.</summary>
        public IRunbookReporter Reporter { get; }

        public CancellationToken Cancellation { get; }
    }

    /// <summary>
    /// Runs the same work on many servers, at most <c>throttleLimit</c> at once. Results are
    /// yielded on the calling thread as servers finish, and reports made by the workers are
    /// passed to the reporter on the calling thread too, because PowerShell only accepts
    /// output, progress and messages from the pipeline thread. One server's failure is its
    /// own outcome and never stops the others.
    /// </summary>
    public sealed class RemoteRunner
    {
        public const int DefaultThrottleLimit = 8;
        public const int ProgressId = 61;

        /// <summary>How long a stopped run waits for its workers to stop their commands on the servers.</summary>
        public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(20);

        private readonly IRemoteShellFactory _factory;
        private readonly IRunbookReporter _reporter;
        private readonly int _throttleLimit;

        public RemoteRunner(IRemoteShellFactory factory, IRunbookReporter reporter, int throttleLimit = DefaultThrottleLimit)
        {
            _factory = factory;
            _reporter = reporter;
            _throttleLimit = throttleLimit > 0 ? throttleLimit : DefaultThrottleLimit;
        }

        public IEnumerable<RemoteOutcome<T>> Run<T>(string activity, IReadOnlyList<SshConnectionSettings> targets, Func<RemoteWork, T> work, CancellationToken cancellation)
        {
            if (targets.Count == 0) yield break;

            // Not disposed: a worker still finishing after the caller stopped may touch them.
            var inbox = new BlockingCollection<object>();
            var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            var workerReporter = new InboxReporter(inbox);
            var queue = new ConcurrentQueue<SshConnectionSettings>(targets);

            // At most throttleLimit workers, each on its own thread (SSH calls block; borrowing
            // thread-pool threads would starve SSH.NET's own continuations), each taking the
            // next server until none is left.
            var workers = Enumerable.Range(0, Math.Min(_throttleLimit, targets.Count)).Select(_ => Task.Factory.StartNew(() =>
            {
                while (queue.TryDequeue(out var target))
                    Post(inbox, RunOne(target, work, workerReporter, stop.Token));
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
            Task.WhenAll(workers).ContinueWith(_ => inbox.CompleteAdding(), TaskScheduler.Default);

            var finished = 0;
            try
            {
                foreach (var item in inbox.GetConsumingEnumerable(cancellation))
                {
                    if (item is Action<IRunbookReporter> report)
                    {
                        report(_reporter);
                        continue;
                    }

                    finished++;
                    _reporter.Progress(new ProgressReport(ProgressId, activity, $"{finished} of {targets.Count} servers done", finished * 100 / targets.Count));
                    yield return (RemoteOutcome<T>)item;
                }
            }
            finally
            {
                // The caller stopped early (Ctrl+C, Select -First): stop the rest too, and give
                // the workers time to kill their commands on the servers, so nothing the caller
                // stopped is still running when it gets control back (or the process exits).
                stop.Cancel();
                Task.WaitAny(Task.WhenAll(workers), Task.Delay(StopGrace));
                _reporter.Progress(new ProgressReport(ProgressId, activity, "Done", 100, Completed: true));
            }
        }

        private static void Post(BlockingCollection<object> inbox, object item)
        {
            try
            {
                inbox.Add(item);
            }
            catch (InvalidOperationException)
            {
                // The run is over; nobody reads any more.
            }
        }

        private RemoteOutcome<T> RunOne<T>(SshConnectionSettings target, Func<RemoteWork, T> work, IRunbookReporter reporter, CancellationToken cancellation)
        {
            RemoteWork? context = null;
            try
            {
                cancellation.ThrowIfCancellationRequested();
                context = new RemoteWork(target, _factory.Connect(target, cancellation), _factory, reporter, cancellation);
                return new RemoteOutcome<T>(target, work(context), null);
            }
            catch (TtmException error)
            {
                return new RemoteOutcome<T>(target, default, error);
            }
            catch (OperationCanceledException)
            {
                return new RemoteOutcome<T>(target, default, new TtmException(TtmErrorCode.SshConnectionFailed, $"Stopped before {target.Label} finished.", target.Label));
            }
            catch (Exception unexpected)
            {
                return new RemoteOutcome<T>(target, default, new TtmException(TtmErrorCode.SshConnectionFailed,
                    $"Remote work on {target.Label} ({target.Address}) failed: {unexpected.Message}", target.Label, unexpected));
            }
            finally
            {
                context?.Shell.Dispose();
            }
        }

        /// <summary>Queues reports from workers for the calling thread.</summary>
        private sealed class InboxReporter : IRunbookReporter
        {
            private readonly BlockingCollection<object> _inbox;

            public InboxReporter(BlockingCollection<object> inbox) => _inbox = inbox;

            public void Progress(ProgressReport report) => Post(r => r.Progress(report));

            public void Verbose(string message) => Post(r => r.Verbose(message));

            public void Warning(string message) => Post(r => r.Warning(message));

            private void Post(Action<IRunbookReporter> report) => RemoteRunner.Post(_inbox, report);
        }
    }
}

using Amazon.SimpleSystemsManagement.Model;
using Rebundle.Errors;
using Rebundle.Remote;
using Rebundle.Runbook;

namespace Rebundle.Aws.Ssm
{
    /// <summary>
    /// One server's shell over SSM Run Command (AWS-RunShellScript): the same command text the SSH
    /// transport runs (built with the same quoting), the same result and errors. What SSM users
    /// trip over is handled here: InvocationDoesNotExist right after SendCommand is waited out (for
    /// <see cref="UnknownInvocationGrace"/>); the invocation is polled with the waits' growing
    /// pause; the command's own timeout is SSM's executionTimeout, and a command past it is
    /// TtmSshTimeout; Ctrl+C sends CancelCommand before it stops; output cut at SSM's 24,000
    /// characters is read whole from S3 when a bucket was named, else marked as truncated.
    /// </summary>
    internal sealed class SsmShell : IRemoteShell
    {
        /// <summary>GetCommandInvocation's cut of each stream.</summary>
        internal const int OutputLimit = 24000;

        /// <summary>How long an invocation may stay unknown to GetCommandInvocation after SendCommand.</summary>
        internal static readonly TimeSpan UnknownInvocationGrace = TimeSpan.FromSeconds(30);

        /// <summary>SSM's shortest delivery timeout (TimeoutSeconds): how long a command may wait for an agent.</summary>
        private static readonly TimeSpan ShortestDelivery = TimeSpan.FromSeconds(30);

        private readonly SsmCalls _calls;
        private readonly SshConnectionSettings _target;
        private readonly IClock _clock;
        private readonly SsmOptions _options;

        public SsmShell(SsmCalls calls, SshConnectionSettings target, IClock clock, SsmOptions options)
        {
            _calls = calls;
            _target = target;
            _clock = clock;
            _options = options;
        }

        public string Host => $"ssm:{_target.InstanceId}";

        public SshCommandResult Run(string command, TimeSpan timeout, CancellationToken cancellation)
        {
            var label = $"{_target.Label} ({_target.InstanceId})";
            var seconds = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
            var delivery = _target.ConnectTimeout > ShortestDelivery ? _target.ConnectTimeout : ShortestDelivery;
            var started = _clock.UtcNow;
            var sent = _calls.Send(new SendCommandRequest
            {
                DocumentName = "AWS-RunShellScript",
                InstanceIds = new List<string> { _target.InstanceId! },
                Parameters = new Dictionary<string, List<string>>
                {
                    ["commands"] = new List<string> { command },
                    ["executionTimeout"] = new List<string> { seconds.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                },
                TimeoutSeconds = (int)delivery.TotalSeconds,
                Comment = "Rebundle",
                OutputS3BucketName = _options.OutputBucket,
                OutputS3KeyPrefix = _options.OutputBucket == null ? null : "rebundle",
            }, label, cancellation);

            // Past the command's own timeout, SSM ends it TimedOut; this deadline is for an answer that never comes.
            var deadline = started + delivery + timeout + TimeSpan.FromSeconds(30);
            var schedule = new PollSchedule(_options.PollInterval, _options.LongestPollInterval);
            while (true)
            {
                try
                {
                    _clock.Sleep(schedule.Interval, cancellation);
                    var invocation = _calls.Invocation(sent.CommandId, _target.InstanceId!, label, cancellation);
                    if (invocation == null)
                    {
                        if (_clock.UtcNow - started > UnknownInvocationGrace)
                            throw new TtmException(TtmErrorCode.BackendError,
                                $"SSM accepted command {sent.CommandId} for {label} but still does not know its invocation after {UnknownInvocationGrace.TotalSeconds:0} s (InvocationDoesNotExist). Check the instance in the Systems Manager console, then run the command again.", _target.Label);
                        continue;
                    }
                    var done = Finished(invocation, command, timeout, label, cancellation);
                    if (done != null) return done with { Duration = _clock.UtcNow - started };
                    schedule.Quiet();
                    if (_clock.UtcNow > deadline)
                    {
                        _calls.Cancel(sent.CommandId, _target.InstanceId!, label);
                        throw new TtmException(TtmErrorCode.SshTimeout,
                            $"The command on {label} did not finish within {timeout} (SSM still says {invocation.Status}); it was cancelled (CancelCommand {sent.CommandId}).", _target.Label);
                    }
                }
                catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
                {
                    // Ctrl+C: the command must not run on unattended; CancelCommand runs on no token.
                    _calls.Cancel(sent.CommandId, _target.InstanceId!, label);
                    throw new OperationCanceledException($"Stopped (Ctrl+C): the command on {label} was cancelled with CancelCommand ({sent.CommandId}).", cancellation);
                }
            }
        }

        /// <summary>The result of a finished invocation, null while it runs; the failures SSM reports as errors.</summary>
        private SshCommandResult? Finished(GetCommandInvocationResponse invocation, string command, TimeSpan timeout, string label, CancellationToken cancellation)
        {
            var details = invocation.StatusDetails ?? "";
            // SSM reports an agent it never reached as TimedOut/DeliveryTimedOut or Failed/Undeliverable (or Terminated): not the command's result.
            if (details == "DeliveryTimedOut" || details == "Undeliverable" || details == "Terminated" || details == "InvalidPlatform")
                throw new TtmException(TtmErrorCode.ServerUnreachable,
                    $"SSM could not run the command on {label}: {invocation.Status} ({details}). Its agent is offline or the instance is gone; check it in the Systems Manager console, or use -Transport Ssh.", _target.Label);
            switch (invocation.Status?.Value)
            {
                case "Success":
                case "Failed":
                    var (stdout, cutOut) = Whole(invocation.StandardOutputContent, invocation.StandardOutputUrl, label, cancellation);
                    var (stderr, cutErr) = Whole(invocation.StandardErrorContent, invocation.StandardErrorUrl, label, cancellation);
                    stderr = WithoutAgentLine(stderr);
                    return new SshCommandResult
                    {
                        Server = _target.ServerName, Farm = _target.Farm, Address = _target.InstanceId!, Command = command,
                        ExitCode = invocation.ResponseCode ?? -1, StdOut = stdout, StdErr = stderr,
                        Transport = RemoteTransport.Ssm, OutputTruncated = cutOut || cutErr,
                    };
                case "TimedOut":
                    throw new TtmException(TtmErrorCode.SshTimeout,
                        $"The command on {label} ran longer than its timeout {timeout}; SSM stopped it ({invocation.StatusDetails}). Raise -CommandTimeout if it needs longer.", _target.Label);
                case "Cancelled":
                    throw new TtmException(TtmErrorCode.SshCommandFailed, $"The command on {label} was cancelled by someone else in SSM ({invocation.StatusDetails}).", _target.Label);
                case "Delayed":
                case "Pending":
                case "InProgress":
                case "Cancelling":
                    return null;
                default:
                    // DeliveryTimedOut, Undeliverable, Terminated, ExecutionTimedOut of delivery…: the agent never ran it.
                    throw new TtmException(TtmErrorCode.ServerUnreachable,
                        $"SSM could not run the command on {label}: {invocation.Status} ({invocation.StatusDetails}). Its agent is offline or the instance is gone; check it in the Systems Manager console, or use -Transport Ssh.", _target.Label);
            }
        }

        // The agent ends a failed command's stderr with its own "failed to run commands: exit status N": the exit code says it already.
        private static readonly System.Text.RegularExpressions.Regex AgentLine =
            new System.Text.RegularExpressions.Regex(@"\n?failed to run commands: exit status \d+\s*$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

        private static string WithoutAgentLine(string stderr) => AgentLine.Replace(stderr, "");

        /// <summary>A stream's whole text: SSM's answer, or when that is cut at its limit, the S3 object; else the cut text, marked.</summary>
        private (string Text, bool Cut) Whole(string? content, string? url, string label, CancellationToken cancellation)
        {
            var text = content ?? "";
            if (text.Length < OutputLimit) return (text, false);
            if (_options.OutputBucket != null && !string.IsNullOrEmpty(url))
                return (_calls.WholeOutput(_options.OutputBucket, url!, label, cancellation), false);
            return (text, true);
        }

        public void Dispose()
        {
        }
    }

    /// <summary>The operator's SSM choices for one call.</summary>
    public sealed record SsmOptions
    {
        /// <summary>-OutputBucket: an S3 bucket SSM writes each command's whole output to (read back beyond SSM's 24,000 characters).</summary>
        public string? OutputBucket { get; init; }

        /// <summary>The first pause between polls of an invocation; it grows by half each quiet round up to <see cref="LongestPollInterval"/>.</summary>
        public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

        public TimeSpan LongestPollInterval { get; init; } = TimeSpan.FromSeconds(10);
    }
}

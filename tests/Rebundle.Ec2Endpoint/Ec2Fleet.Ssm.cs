using System.Collections.Generic;

namespace Rebundle.Ec2Endpoint;

/// <summary>What the Systems Manager part (SsmFleet.cs) shares with the EC2 fleet: the lock, the request log, the shared faults.</summary>
public sealed partial class Ec2Fleet
{
    private SsmFleet? _ssm;

    /// <summary>Systems Manager Run Command and the S3 objects it writes, served on the same URL to requests signed for ssm and s3 (SsmFleet.cs).</summary>
    public SsmFleet Ssm
    {
        get { lock (_gate) return _ssm ??= new SsmFleet(this); }
    }

    /// <summary>Every instance, seen or not yet; the caller holds the lock.</summary>
    internal IReadOnlyList<Ec2Instance> AllInstances() => _instances;

    /// <summary>A request of a JSON or REST service (ssm, s3) into the one log; the caller holds the lock.</summary>
    internal void LogService(string action, IReadOnlyDictionary<string, string> parameters, int status, string? errorCode, SignedRequest signed, string service) =>
        _log.Add(new LoggedRequest(Now, action, parameters, status, errorCode, SigV4Check.AccessKeyOf(signed), service));

    /// <summary>The shared throttle (Faults.ThrottleNext / ThrottleAction) takes this request: true when it is to be refused.</summary>
    internal bool TakeThrottle(string action)
    {
        if (Faults.ThrottleNext <= 0 || (Faults.ThrottleAction != null && Faults.ThrottleAction != action)) return false;
        Faults.ThrottleNext--;
        return true;
    }

    internal void RunHookAfter(string action) => RunHook(action);

    /// <summary>The shared lost answers (Faults.LoseResponses): throws the EC2 InternalError the caller rewords.</summary>
    internal void LoseResponseOf(string action) => LoseResponse(action);

    /// <summary>Stops the SSM part's processes and deletes its folders, if it was ever used (the endpoint calls it when it stops).</summary>
    internal void DisposeSsm()
    {
        SsmFleet? ssm;
        lock (_gate) ssm = _ssm;
        ssm?.Dispose();
    }
}

using System;
using System.Collections.Generic;
using System.Linq;

namespace Rebundle.Ec2Endpoint;

/// <summary>
/// What the groups do on their own, replayed lazily. Each instance has at most one next step
/// (<see cref="Step"/>), due at a time that follows from timestamps: its EC2 instance running or
/// failing, a lifecycle action's completion or heartbeat timeout, its target groups' drain, a
/// health check failing. Reconcile applies the earliest due step at its own time, lets the group
/// look at its capacity then (<see cref="Decide"/>: replace unhealthy instances, scale in, launch),
/// and repeats until nothing is due: a group left alone for an hour ends where it would have
/// ended had it been asked every second.
///
/// Lifecycle, as the EC2 Auto Scaling user guide draws it. Launch: Pending (→ Pending:Wait while
/// a launching hook waits → Pending:Proceed) → InService once EC2 says running, registered in the
/// group's target groups as it enters. Terminate: Terminating while the target groups drain it
/// (AWS deregisters first, then runs the terminating hooks) → Terminating:Wait while a
/// terminating hook waits → Terminating:Proceed, EC2 terminates it → Terminated once EC2 says so
/// → gone after <see cref="TerminatedListedFor"/>. AZRebalance, InstanceRefresh, AlarmNotification
/// and ScheduledActions can be suspended and resumed but do nothing here (one zone, no alarms,
/// no schedules, no refreshes).
/// </summary>
public sealed partial class AutoScalingFleet
{
    private const int MaxActivities = 1000;
    private static readonly TimeSpan LongestRetry = TimeSpan.FromMinutes(5);

    private bool _reconciling;

    /// <summary>Brings every group up to now. Every request runs it first, and every test accessor.</summary>
    internal void Reconcile()
    {
        // Nested (an accessor used while reconciling): the outer call is bringing everything up to now already.
        if (_reconciling) return;
        _reconciling = true;
        try
        {
            var now = Now;
            foreach (var group in _groups) Reconcile(group, now);
        }
        finally { _reconciling = false; }
    }

    private void Reconcile(AsgGroup g, DateTimeOffset now)
    {
        for (var events = 0; NextEvent(g, now) is { } next; events++)
        {
            if (events > 100_000) throw new InvalidOperationException($"Auto Scaling group {g.Name} never settles (a bug in the test endpoint).");
            next.Apply?.Invoke(next.At);
            Decide(g, next.At);
        }
        Decide(g, now);
    }

    /// <summary>The earliest step due by <paramref name="now"/>, or a launch retry falling due; never before the group's last look (time only goes forward).</summary>
    private (DateTimeOffset At, Action<DateTimeOffset>? Apply)? NextEvent(AsgGroup g, DateTimeOffset now)
    {
        (DateTimeOffset At, Action<DateTimeOffset>? Apply)? earliest = null;
        foreach (var instance in g.Instances)
            if (Step(g, instance) is { } step && step.At <= now && (earliest == null || step.At < earliest.Value.At))
                earliest = step;
        if (g.NextLaunchAt > g.DecidedAt && g.NextLaunchAt <= now && (earliest == null || g.NextLaunchAt < earliest.Value.At))
            earliest = (g.NextLaunchAt, null);
        return earliest is { } e ? (Later(e.At, g.DecidedAt), e.Apply) : null;
    }

    /// <summary>The instance's next step and when it falls due; null while nothing will move it (in service and healthy, a stalled launch).</summary>
    private (DateTimeOffset At, Action<DateTimeOffset> Apply)? Step(AsgGroup g, AsgInstance i)
    {
        switch (i.State)
        {
            case Asg.Pending or Asg.PendingProceed:
            {
                var running = i.Ec2.RunningAt is { } r ? Later(r, i.Since) : (DateTimeOffset?)null;
                if (LaunchFailedAt(i) is { } failed && (running == null || failed <= running)) return (failed, at => FailLaunch(g, i, at, LaunchFailure(i)));
                return running is { } run ? (run, at => EnterService(g, i, at)) : null;
            }
            case Asg.PendingWait:
            {
                var (end, result) = WaitOutcome(i);
                if (LaunchFailedAt(i) is { } failed && failed <= end) return (failed, at => FailLaunch(g, i, at, LaunchFailure(i)));
                return (end, at =>
                {
                    if (result == Asg.Abandon)
                    {
                        AbandonLaunch(g, i, at);
                        return;
                    }
                    Enter(i, Asg.PendingProceed, at);
                    i.Launch!.StatusCode = "InProgress";
                });
            }
            case Asg.InService when i.Healthy && !g.IsSuspended("HealthCheck"):
                return FoundUnhealthyAt(g, i) is { } found ? (found.At, _ => (i.Healthy, i.UnhealthyBecause) = (false, found.Because)) : null;
            case Asg.Terminating:
                return (i.DrainedAt, at => AfterDrain(g, i, at));
            case Asg.TerminatingWait:
                return (WaitOutcome(i).At, at => Proceed(i, at)); // CONTINUE or ABANDON: a terminating instance goes either way
            case Asg.TerminatingProceed:
                return (Later(Ec2TerminatedAt(i), i.Since), at =>
                {
                    Enter(i, Asg.Terminated, at);
                    i.Termination?.End(at, "Successful");
                });
            case Asg.Terminated:
                return (i.Since + TerminatedListedFor, _ => g.Instances.Remove(i));
        }
        return null;
    }

    /// <summary>
    /// The group looks at itself at <paramref name="t"/>: unhealthy instances are terminated
    /// (ReplaceUnhealthy), surplus ones too (scale in), and missing capacity is launched.
    /// </summary>
    private void Decide(AsgGroup g, DateTimeOffset t)
    {
        g.DecidedAt = t;
        if (!g.IsSuspended("ReplaceUnhealthy") && !g.IsSuspended("Terminate"))
            foreach (var sick in g.Instances.Where(i => i.State == Asg.InService && !i.Healthy).ToList())
                Terminate(g, sick, t, $"At {CauseTime(t)} an instance was taken out of service in response to {sick.UnhealthyBecause}.");

        var live = g.Live.Count();
        if (live > g.Desired && !g.IsSuspended("Terminate"))
        {
            // Which to terminate: AWS's Default policy after zone balance (one zone here): instances
            // not on the group's launch template version first, oldest version first; then the
            // oldest launch. Protected instances are never picked: if all are, the group waits.
            var current = CurrentVersion(g);
            var victims = g.Instances.Where(i => i.State == Asg.InService && !i.Protected)
                .OrderBy(i => i.Ec2.LaunchTemplateId == g.LaunchTemplateId && i.Ec2.LaunchTemplateVersion == current ? 1 : 0)
                .ThenBy(i => long.TryParse(i.Ec2.LaunchTemplateVersion, out var v) ? v : 0)
                .ThenBy(i => i.LaunchedAt)
                .Take(live - g.Desired).ToList();
            foreach (var victim in victims)
            {
                Terminate(g, victim, t, Cause(g, t, $"an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from {live} to {live - 1}.")
                    + $"  At {CauseTime(t)} instance {victim.Id} was selected for termination.");
                live--;
            }
        }

        if (!g.IsSuspended("Launch") && t >= g.NextLaunchAt)
            while (live < g.Desired && Launch(g, t, live)) live++;
    }

    /// <summary>Launches one instance at <paramref name="t"/>; false when the launch failed at once (recorded as a Failed activity, retried later).</summary>
    private bool Launch(AsgGroup g, DateTimeOffset t, int capacity)
    {
        var cause = Cause(g, t, $"an instance was started in response to a difference between desired and actual capacity, increasing the capacity from {capacity} to {capacity + 1}.");
        Ec2Instance ec2;
        try
        {
            ec2 = _ec2.LaunchForAutoScaling(g.LaunchTemplateId, g.Version, InstanceTags(g), t);
        }
        catch (Ec2Error e)
        {
            AddActivity(g, t, $"Launching a new EC2 instance.  Status Reason: {e.Message} Launching EC2 instance failed.", cause)
                .End(t, "Failed", $"{e.Message} Launching EC2 instance failed.");
            g.FailedLaunchesInRow++;
            var wait = TimeSpan.FromTicks(LaunchRetryDelay.Ticks * (1L << Math.Min(g.FailedLaunchesInRow - 1, 20)));
            g.NextLaunchAt = t + (wait < LongestRetry ? wait : LongestRetry);
            return false;
        }
        g.FailedLaunchesInRow = 0;
        var instance = new AsgInstance { Ec2 = ec2, Version = g.Version, LaunchedAt = t, Since = t, Protected = g.NewInstancesProtectedFromScaleIn };
        instance.Launch = AddActivity(g, t, $"Launching a new EC2 instance: {ec2.Id}", cause);
        var hooks = g.Hooks.Where(h => h.Transition == Asg.LaunchingHook).ToList();
        if (hooks.Count > 0) Wait(instance, Asg.PendingWait, hooks, t);
        g.Instances.Add(instance);
        return true;
    }

    /// <summary>A seeded instance: launched a day ago, in service since, its launch a Successful activity.</summary>
    private void SeedInstance(AsgGroup g, int index, IEnumerable<KeyValuePair<string, string>>? extraTags)
    {
        var at = Now - TimeSpan.FromDays(1);
        var ec2 = _ec2.LaunchForAutoScaling(g.LaunchTemplateId, g.Version, InstanceTags(g).Concat(extraTags ?? Array.Empty<KeyValuePair<string, string>>()), at, seeded: true);
        var instance = new AsgInstance { Ec2 = ec2, Version = g.Version, LaunchedAt = at, Since = at, State = Asg.InService, Protected = g.NewInstancesProtectedFromScaleIn };
        instance.Launch = AddActivity(g, at, $"Launching a new EC2 instance: {ec2.Id}",
            $"At {CauseTime(at)} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from {index - 1} to {index}.");
        instance.Launch.End(at, "Successful");
        g.Instances.Add(instance);
    }

    private void EnterService(AsgGroup g, AsgInstance i, DateTimeOffset at)
    {
        // Status checks need not be ok to enter service, but an instance already failing them is a failed launch.
        if (i.Ec2.Impaired && Checks(i, at) == "impaired")
        {
            FailLaunch(g, i, at, $"Instance {i.Id} failed its EC2 status checks (impaired) before entering service.");
            return;
        }
        Enter(i, Asg.InService, at);
        // AWS: with AddToLoadBalancer suspended, instances launched meanwhile are never registered (not even on resume).
        if (!g.IsSuspended("AddToLoadBalancer"))
            foreach (var arn in g.TargetGroupArns) _ec2.Elbv2.RegisterAt(arn, i.Id, at);
        i.Launch!.End(at, "Successful");
    }

    private void FailLaunch(AsgGroup g, AsgInstance i, DateTimeOffset at, string reason)
    {
        i.Launch!.End(at, "Failed", $"{reason} Launching EC2 instance failed.");
        TerminateEc2(i, at);
        g.Instances.Remove(i); // the group tries again: Decide sees the capacity missing
    }

    /// <summary>A launching hook ended ABANDON: the instance is terminated (never registered, no terminating hooks) and another launched.</summary>
    private void AbandonLaunch(AsgGroup g, AsgInstance i, DateTimeOffset at)
    {
        var token = i.Waits.Where(w => w.Outcome.Result == Asg.Abandon).OrderBy(w => w.Outcome.At).First().Token;
        i.Launch!.End(at, "Cancelled", $"Instance failed to complete user's Lifecycle Action: Lifecycle Action with token {token} was abandoned: Lifecycle Action Completed with ABANDON Result");
        Proceed(i, at);
    }

    /// <summary>Takes the instance out of service at <paramref name="at"/>: deregistered from the group's target groups, it waits while they drain it.</summary>
    private void Terminate(AsgGroup g, AsgInstance i, DateTimeOffset at, string cause)
    {
        Enter(i, Asg.Terminating, at);
        var drained = at;
        foreach (var arn in g.TargetGroupArns)
            if (_ec2.Elbv2.DeregisterAt(arn, i.Id, at) is { } done && done > drained) drained = done;
        i.DrainedAt = drained;
        i.Termination = AddActivity(g, at, $"Terminating EC2 instance: {i.Id}", cause);
        i.Termination.StatusCode = drained > at ? "WaitingForELBConnectionDraining" : "InProgress";
    }

    private void AfterDrain(AsgGroup g, AsgInstance i, DateTimeOffset at)
    {
        var hooks = g.Hooks.Where(h => h.Transition == Asg.TerminatingHook).ToList();
        if (hooks.Count == 0)
        {
            Proceed(i, at);
            return;
        }
        Wait(i, Asg.TerminatingWait, hooks, at);
        i.Termination!.StatusCode = "MidLifecycleAction";
        i.Termination.Progress = 50;
    }

    /// <summary>Terminating:Proceed: EC2 terminates the instance now (it kept running through the drain and the hooks).</summary>
    private void Proceed(AsgInstance i, DateTimeOffset at)
    {
        Enter(i, Asg.TerminatingProceed, at);
        TerminateEc2(i, at);
        if (i.Termination is { } activity)
        {
            activity.StatusCode = "InProgress";
            activity.Progress = 75;
        }
    }

    private void Wait(AsgInstance i, string state, IEnumerable<AsgHook> hooks, DateTimeOffset at)
    {
        Enter(i, state, at);
        i.Waits = hooks.Select(h => new AsgWait { Hook = h, Deadline = at + h.HeartbeatTimeout }).ToList();
        if (state == Asg.PendingWait) i.Launch!.StatusCode = "MidLifecycleAction";
    }

    /// <summary>When the wait ends and how: at the first ABANDON, else once every lifecycle action has ended (CONTINUE).</summary>
    private static (DateTimeOffset At, string Result) WaitOutcome(AsgInstance i)
    {
        var outcomes = i.Waits.Select(w => w.Outcome).ToList();
        var abandon = outcomes.Where(o => o.Result == Asg.Abandon).OrderBy(o => o.At).Cast<(DateTimeOffset, string)?>().FirstOrDefault();
        return abandon ?? (outcomes.Max(o => o.At), Asg.Continue);
    }

    private static void Enter(AsgInstance i, string state, DateTimeOffset at)
    {
        if (state is not (Asg.PendingWait or Asg.TerminatingWait)) i.Waits = new List<AsgWait>();
        i.State = state;
        i.Since = at;
    }

    /// <summary>When a health check first finds the instance unhealthy, and why (the cause's words), or null while it passes.</summary>
    private (DateTimeOffset At, string Because)? FoundUnhealthyAt(AsgGroup g, AsgInstance i)
    {
        var found = new List<(DateTimeOffset At, string Because)>();
        var graceEnds = i.LaunchedAt + g.HealthCheckGracePeriod;
        // Someone terminated it through EC2 (allowed): not running any more, whatever the grace period.
        if (i.Ec2.TerminateRequestedAt is { } gone) found.Add((Later(gone, i.Since), "an EC2 health check indicating it has been terminated or stopped"));
        if (i.Ec2.Impaired && i.Ec2.RunningAt is { } run)
            found.Add((Later(Later(run + _ec2.Settings.StatusCheckTime, graceEnds), i.Since), "an EC2 instance status checks failure"));
        if (g.HealthCheckType == "ELB")
            foreach (var arn in g.TargetGroupArns)
                if (_ec2.Elbv2.UnhealthySince(arn, i.Id) is { } since)
                    found.Add((Later(Later(since, graceEnds), i.Since), "an ELB system health check failure"));
        return found.Count == 0 ? null : found.MinBy(f => f.At);
    }

    /// <summary>When the EC2 instance of a launching instance failed: ended terminated on launch, or terminated through EC2.</summary>
    private static DateTimeOffset? LaunchFailedAt(AsgInstance i)
    {
        var failed = new[] { i.Ec2.FailsAt, i.Ec2.TerminateRequestedAt }.Where(t => t != null).Min();
        return failed is { } at ? Later(at, i.Since) : null;
    }

    private static string LaunchFailure(AsgInstance i) =>
        i.Ec2.FailsAt is { } fails && (i.Ec2.TerminateRequestedAt == null || fails <= i.Ec2.TerminateRequestedAt)
            ? $"Instance {i.Id} ended terminated on launch: Server.InternalError: Internal error on launch."
            : $"Instance {i.Id} was terminated through EC2 (Client.UserInitiatedShutdown) before it entered service.";

    private DateTimeOffset Ec2TerminatedAt(AsgInstance i) =>
        i.Ec2.TerminateRequestedAt is { } asked ? asked + _ec2.Settings.ShutdownTime : i.Ec2.FailsAt ?? i.Since;

    private void TerminateEc2(AsgInstance i, DateTimeOffset at)
    {
        if (i.Ec2.StateAt(at, _ec2.Settings.ShutdownTime).Name is not ("shutting-down" or "terminated")) i.Ec2.TerminateRequestedAt = at;
    }

    private string Checks(AsgInstance i, DateTimeOffset at) =>
        i.Ec2.StatusChecksAt(at, _ec2.Settings.StatusCheckTime, _ec2.Settings.RebootTime, _ec2.Settings.InsufficientDataTime);

    private string? CurrentVersion(AsgGroup g) =>
        _ec2.LaunchTemplates.FirstOrDefault(t => t.Id == g.LaunchTemplateId)?.Version(g.Version)?.Number.ToString();

    /// <summary>aws:autoscaling:groupName and the group's tags that propagate at launch.</summary>
    private static IEnumerable<KeyValuePair<string, string>> InstanceTags(AsgGroup g) =>
        new[] { new KeyValuePair<string, string>("aws:autoscaling:groupName", g.Name) }
            .Concat(g.Tags.Where(t => t.PropagateAtLaunch).Select(t => new KeyValuePair<string, string>(t.Key, t.Value)));

    /// <summary>An activity's cause: what the user changed, when that change brought it about, then what the group did.</summary>
    private static string Cause(AsgGroup g, DateTimeOffset t, string what) =>
        (g.CapacityCause != null && g.CapacityCauseAt == t ? g.CapacityCause + "  " : "") + $"At {CauseTime(t)} {what}";

    private static AsgActivity AddActivity(AsgGroup g, DateTimeOffset at, string description, string cause)
    {
        var activity = new AsgActivity { Description = description, Cause = cause, StartTime = at, Progress = 0 };
        g.Activities.Add(activity);
        // AWS keeps six weeks of activities; the fake keeps the newest thousand (a launch failing for days retries every 5 minutes).
        if (g.Activities.Count > MaxActivities && g.Activities.FindIndex(a => !a.InProgress) is var oldest and >= 0) g.Activities.RemoveAt(oldest);
        return activity;
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}

using Rebundle.Errors;

namespace Rebundle.Safety
{
    /// <summary>
    /// Decides, for every change a backend is about to make, whether it touches a protected farm
    /// and, if so, whether the running command was given approval. Protection comes from the
    /// configuration (the name tables' protected farms), never from a cmdlet: a cmdlet only says
    /// who approves, for as long as it runs (<see cref="Use"/>). With no approver in scope a
    /// change to a protected farm is refused, so a path that forgets to ask is safe by default.
    /// </summary>
    public sealed class ChangeGuard
    {
        // Flows to tasks and threads the command starts, and not to other runspaces' threads.
        private readonly AsyncLocal<IChangeApprover?> _approver = new AsyncLocal<IChangeApprover?>();
        private readonly Func<string, bool> _isProtected;

        public ChangeGuard(Func<string, bool> isProtected) => _isProtected = isProtected;

        /// <summary>A guard that protects nothing (tests of the services without approval).</summary>
        public static ChangeGuard None { get; } = new ChangeGuard(_ => false);

        /// <summary>Makes <paramref name="approver"/> the one asked until the returned scope is disposed.</summary>
        public IDisposable Use(IChangeApprover approver)
        {
            var previous = _approver.Value;
            _approver.Value = approver;
            return new DisposableAction(() => _approver.Value = previous);
        }

        /// <summary>The protected farms among <paramref name="farms"/>.</summary>
        public IReadOnlyList<string> ProtectedAmong(IEnumerable<string> farms) =>
            farms.Where(_isProtected).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

        /// <summary>Returns when the change may go ahead; throws <see cref="TtmErrorCode.ApprovalRequired"/> when not.</summary>
        public void Check(ChangeIntent intent)
        {
            var protectedFarms = ProtectedAmong(intent.Farms);
            if (protectedFarms.Count == 0) return;
            var approver = _approver.Value;
            if (approver != null && approver.Approve(intent, protectedFarms)) return;
            var farms = string.Join(", ", protectedFarms);
            throw new TtmException(TtmErrorCode.ApprovalRequired,
                $"{intent.Description} touches protected farm {farms}, and that was not approved, so nothing was changed. " +
                (approver?.HowToApprove ?? "Run it from a Rebundle cmdlet with -Force to approve it."),
                protectedFarms[0]);
        }
    }
}

namespace Rebundle.Safety
{
    /// <summary>
    /// Who may approve a change to a protected farm: the cmdlet running it, which knows the
    /// approval the operator gave (-Force, -ApproveProduction, -Confirm:$false, a Yes at a prompt).
    /// </summary>
    public interface IChangeApprover
    {
        /// <summary>Whether the change may touch <paramref name="protectedFarms"/>. May ask the operator; never throws.</summary>
        bool Approve(ChangeIntent intent, IReadOnlyList<string> protectedFarms);

        /// <summary>What the operator passes to approve, for the refusal's message, e.g. "Pass -Force".</summary>
        string HowToApprove { get; }
    }
}

using Rebundle.Domain;

namespace Rebundle.Rebundling
{
    /// <summary>
    /// The remote work of the runbook (over SSH in the module): patching the base server's OS
    /// (step 1) and verifying configured servers (steps 5 and 6). A rebundle without it must
    /// skip the OS update and the checks.
    /// </summary>
    public interface IServerPreparation
    {
        /// <summary>apt-get update / upgrade / install the packages, reboot, wait for SSH. Throws on failure.</summary>
        void UpdateOs(IReadOnlyList<Server> servers, IReadOnlyList<string> packages, CancellationToken cancellation);

        /// <summary>Runs the checks; returns one line per failed check (empty: every server passed).</summary>
        IReadOnlyList<string> Verify(IReadOnlyList<Server> servers, CancellationToken cancellation);

        /// <summary>
        /// Which of these servers the remote work reaches through the backend's own command
        /// service (AWS: SSM) rather than SSH: what the preflight asks permissions for. Reads,
        /// never runs anything.
        /// </summary>
        IReadOnlyList<Server> ThroughBackend(IReadOnlyList<Server> servers);
    }
}

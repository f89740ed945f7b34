using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Scalr
{
    // Scalr's scaling keeps each farm role between its minInstances (the runbook's count) and its
    // maxInstances, and refuses a launch past the maximum. A launch-first recycle needs room
    // above the count for the replacements in flight; without it the launch is refused here,
    // before anything is sent, saying what to change (docs/scalr.md, Scaling).
    public sealed partial class ScalrBackend
    {
        /// <summary>Farm roles' maxInstances as last read (GetFarmRoles; a recycle reads them just before it launches).</summary>
        private readonly Dictionary<string, int> _maxInstances = new Dictionary<string, int>(StringComparer.Ordinal);

        private void RememberMaxInstances(ScalrFarmRole farmRole)
        {
            if (farmRole.MaxInstances is int max) lock (_gate) _maxInstances[farmRole.Id] = max;
        }

        /// <summary>Refuses (TtmConfigInvalid) <paramref name="launches"/> that would take the farm role past its maxInstances.</summary>
        private void RequireRoomFor(FarmRole farmRole, IReadOnlyList<ScalrServer> servers, int launches, CancellationToken cancellationToken)
        {
            int max;
            bool known;
            lock (_gate) known = _maxInstances.TryGetValue(farmRole.Id, out max);
            if (!known)
            {
                var read = ScalrFarmRole.From(_client.Get($"farm-roles/{farmRole.Id}/", null, cancellationToken));
                RememberMaxInstances(read);
                if (read.MaxInstances is not int readMax) return; // Scalr did not say: let Scalr decide
                max = readMax;
            }
            // Scalr counts running and pending servers against the maximum.
            var live = servers.Count(s => StatusOf(s.Status) is ServerStatus.Running or ServerStatus.Pending);
            if (live + launches > max) throw NoRoom(farmRole, live, max, null);
        }

        private ScalrServer PostLaunch(FarmRole farmRole, CancellationToken cancellationToken)
        {
            try
            {
                return ScalrServer.From(_client.Post($"farm-roles/{farmRole.Id}/servers/", null, cancellationToken));
            }
            catch (TtmException e) when (e.BackendCode == "UnacceptableState")
            {
                // Someone launched since the count above (or the maximum was lowered): Scalr refused.
                throw NoRoom(farmRole, null, null, e);
            }
        }

        private static TtmException NoRoom(FarmRole farmRole, int? live, int? max, TtmException? scalrSaid) => new TtmException(
            TtmErrorCode.ConfigInvalid,
            (live is int n && max is int m
                ? $"Farm role {farmRole.Farm}/{farmRole.Alias} may have at most {m} server(s) (Scalr's maxInstances) and has {n} running or pending, so Scalr would refuse another launch. "
                : $"Scalr refused to launch a server in farm role {farmRole.Farm}/{farmRole.Alias}: {scalrSaid!.Message} ") +
            $"A launch-first recycle needs room above the farm role's count of {farmRole.DesiredCount} for each replacement in flight. Nothing was launched for it. " +
            $"Raise the farm role's maximum instances in Scalr to at least {farmRole.DesiredCount} plus -BatchSize, or recycle with a smaller -BatchSize.",
            $"{farmRole.Farm}/{farmRole.Alias}", scalrSaid) { BackendCode = scalrSaid?.BackendCode };
    }
}

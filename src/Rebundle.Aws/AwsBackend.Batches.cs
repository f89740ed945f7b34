using Amazon.EC2.Model;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Aws
{
    /// <summary>
    /// Changes in batches. Terminations go 1,000 instance ids to a TerminateInstances call (EC2's
    /// limit), so a batch of 50 costs one request against the account's request bucket, not 50.
    /// Launches still go one RunInstances per server, through <see cref="LaunchServer"/>: each
    /// server needs its own Name and index tags at launch, and the index assignment lives there.
    /// </summary>
    public sealed partial class AwsBackend
    {
        /// <summary>EC2 takes at most this many instance ids in one TerminateInstances.</summary>
        internal const int TerminateIdsPerCall = 1000;

        public IReadOnlyList<Server> LaunchServers(FarmRole farmRole, int count, CancellationToken cancellationToken = default) =>
            Enumerable.Range(0, Math.Max(0, count)).Select(_ => LaunchServer(farmRole, cancellationToken)).ToList();

        public void TerminateServers(IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default)
        {
            // An Auto Scaling group's server is refused before any of the batch is terminated.
            foreach (var server in servers) RefuseAutoScaled(server, cancellationToken);
            foreach (var server in servers) ForgetLaunch(server.Id);
            var ids = servers.Select(s => s.Id).Distinct(StringComparer.Ordinal).ToList();
            for (var start = 0; start < ids.Count; start += TerminateIdsPerCall)
            {
                var chunk = ids.Skip(start).Take(TerminateIdsPerCall).ToList();
                _calls.Call($"Terminating {chunk.Count} server(s): {string.Join(", ", chunk.Take(3))}{(chunk.Count > 3 ? ", …" : "")}", cancellationToken,
                    (ec2, cancel) => ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = chunk }, cancel),
                    chunk.Count == 1 ? chunk[0] : string.Join(", ", chunk.Take(3)), TtmErrorCode.ServerNotFound);
            }
        }
    }
}

using Amazon.EC2.Model;
using Rebundle.Aws.Ec2;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Aws
{
    /// <summary>
    /// EC2 status checks: a server counts as Running only once its instance and system checks
    /// are both "ok" (unreported, initializing or insufficient-data is Pending), so a recycle terminates the old server only after the replacement is
    /// healthy. Endpoints that do not report checks are trusted on the instance state alone.
    /// </summary>
    internal sealed class StatusChecks
    {
        private static readonly HashSet<string> NotReportedCodes = new HashSet<string>(StringComparer.Ordinal)
        {
            "InvalidAction", "NotImplemented", "UnsupportedOperation", "UnknownOperationException",
        };

        private readonly Ec2Calls _calls;

        // Set once the endpoint has said it does not know DescribeInstanceStatus; not asked again.
        // Only ever goes from false to true, so readers on other threads need no lock, only the latest value.
        private volatile bool _notReported;

        public StatusChecks(Ec2Calls calls) => _calls = calls;

        /// <summary>The servers with each running one's status after its checks (one DescribeInstanceStatus pass for all).</summary>
        public List<Server> Apply(List<Server> servers, CancellationToken cancellationToken)
        {
            var running = servers.Where(s => s.Status == ServerStatus.Running).Select(s => s.Id).ToList();
            if (running.Count == 0 || _notReported) return servers;

            Dictionary<string, ServerStatus> checkedStatus;
            try
            {
                checkedStatus = Read(running, cancellationToken);
            }
            catch (TtmException e) when (e.BackendCode != null && NotReportedCodes.Contains(e.BackendCode))
            {
                _notReported = true;
                return servers;
            }
            // EC2 reports a new instance's checks late: a running instance it leaves out has passed nothing yet.
            return servers
                .Select(s => s.Status != ServerStatus.Running ? s
                    : s with { Status = checkedStatus.TryGetValue(s.Id, out var status) ? status : ServerStatus.Pending })
                .ToList();
        }

        /// <summary>
        /// The checked status of running instances, in one paginated pass: filtered by id for up
        /// to 200 instances, else every running instance's checks (cheaper than many id chunks).
        /// </summary>
        private Dictionary<string, ServerStatus> Read(IReadOnlyCollection<string> instanceIds, CancellationToken cancellationToken)
        {
            var filters = instanceIds.Count <= FilterLimit.Values ? new List<Filter> { TtmTags.Filter("instance-id", instanceIds) } : null;
            return _calls.All<InstanceStatus>("Reading server status checks", cancellationToken, async (ec2, token, cancel) =>
                {
                    var response = await ec2.DescribeInstanceStatusAsync(new DescribeInstanceStatusRequest
                    {
                        Filters = filters,
                        MaxResults = Ec2Reads.InstancePage,
                        NextToken = token,
                    }, cancel).ConfigureAwait(false);
                    return (response.InstanceStatuses, response.NextToken);
                })
                .GroupBy(s => s.InstanceId, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => AwsMapping.StatusAfterChecks(g.First()), StringComparer.Ordinal);
        }
    }
}

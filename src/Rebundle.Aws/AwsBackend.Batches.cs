using System.Globalization;
using Amazon.EC2;
using Amazon.EC2.Model;
using Rebundle.Aws.Ec2;
using Rebundle.Domain;
using Rebundle.Errors;

namespace Rebundle.Aws
{
    /// <summary>
    /// Changes in batches, so a batch of 50 costs a few requests against the account's request
    /// buckets, not 100. Launches: one RunInstances per farm role with MinCount = MaxCount = n (all
    /// or nothing), then each instance's own Name and index tags (RunInstances gives every instance
    /// the same tags). Terminations: 1,000 instance ids to a TerminateInstances call (EC2's limit).
    /// </summary>
    public sealed partial class AwsBackend
    {
        /// <summary>EC2 takes at most this many instance ids in one TerminateInstances.</summary>
        internal const int TerminateIdsPerCall = 1000;

        // A new instance can be missing from CreateTags for a few seconds (eventual consistency:
        // InvalidInstanceID.NotFound); tagging is retried this long before the batch is given up.
        private static readonly TimeSpan[] TagRetryDelays = { TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(16) };

        /// <summary>
        /// RunInstances from the role the farm role runs now (its template's $Default version), with
        /// the farm-role tags and, for each server, the lowest index no live server of the farm role
        /// holds (nor a launch of this session EC2 does not show yet: see UnseenObjects). A
        /// client token makes a retried launch the same launch, never a second batch.
        /// </summary>
        public IReadOnlyList<Server> LaunchServers(FarmRole farmRole, int count, CancellationToken cancellationToken = default)
        {
            if (count < 1) return Array.Empty<Server>();
            // Launched in full, in part or not at all (a lost answer), the servers are read again afterwards.
            try
            {
                return Launch(farmRole, count, cancellationToken);
            }
            finally
            {
                _shared.Changed(AwsSharedReads.Servers);
            }
        }

        private IReadOnlyList<Server> Launch(FarmRole farmRole, int count, CancellationToken cancellationToken)
        {
            // The farm role must still exist, as on the Sandbox and Scalr: no orphan server of a farm role that is gone.
            var farmRoleName = TtmTags.FarmRoleTemplate(farmRole.Farm, farmRole.Alias);
            var current = _reads.Templates($"Reading farm role {farmRole}", cancellationToken, new List<Filter> { TtmTags.Filter("launch-template-name", farmRoleName) })
                .Select(AwsMapping.FarmRoleOf).FirstOrDefault(r => r != null)
                ?? throw new TtmException(TtmErrorCode.FarmRoleNotFound, $"There is no launch template {farmRoleName} for farm role {farmRole}; nothing was launched. Run Get-TtmFarmRole -Farm {farmRole.Farm} to list farm roles.", farmRole.ToString());
            current = _scaling.WithGroups(new[] { current }, cancellationToken)[0];
            farmRole = farmRole with { Role = current.Role, ScalingGroup = current.ScalingGroup };
            var servers = ReadServers(new Backends.ServerQuery { Farms = new[] { farmRole.Farm }, Aliases = new[] { farmRole.Alias } }, cancellationToken)
                .Where(s => s.Farm == farmRole.Farm && s.Alias == farmRole.Alias).ToList();
            _autoScaling.RefuseLaunchInto(farmRole, servers);
            var indexes = FreeIndexes(servers.Select(s => s.Index), count);
            if (farmRole.IsScalingGroup) return LaunchInGroup(farmRole, count, indexes, cancellationToken);

            // One server: its own tags at launch. More: the shared tags at launch, each one's own after.
            var tags = new List<Tag>
            {
                TtmTags.Tag(TtmTags.Farm, farmRole.Farm),
                TtmTags.Tag(TtmTags.Alias, farmRole.Alias),
                TtmTags.Tag(TtmTags.Role, farmRole.Role),
            };
            if (count == 1) tags.AddRange(OwnTags(farmRole, indexes[0]));
            var what = count == 1 ? "a server" : $"{count} servers";
            var response = _calls.Call($"Launching {what} of farm role {farmRole} from role {farmRole.Role}", cancellationToken, (ec2, cancel) => ec2.RunInstancesAsync(new RunInstancesRequest
            {
                LaunchTemplate = new LaunchTemplateSpecification { LaunchTemplateName = TtmTags.RoleTemplate(farmRole.Role), Version = "$Default" },
                // All or nothing: with MinCount below MaxCount EC2 may launch fewer and call it a success.
                MinCount = count,
                MaxCount = count,
                ClientToken = Guid.NewGuid().ToString(),
                TagSpecifications = new List<TagSpecification> { new TagSpecification { ResourceType = ResourceType.Instance, Tags = tags } },
            }, cancel), farmRole.ToString(), TtmErrorCode.RoleNotFound);

            var instances = (response.Reservation?.Instances ?? new List<Instance>()).OrderBy(i => i.AmiLaunchIndex ?? 0).Take(count).ToList();
            var launched = new List<Server>();
            for (var i = 0; i < instances.Count; i++)
            {
                var server = AwsMapping.ServerOf(instances[i], _region)
                    ?? throw new TtmException(TtmErrorCode.BackendError, $"EC2 launched {instances[i].InstanceId} for farm role {farmRole} without its tags.", instances[i].InstanceId);
                server = server with { Index = indexes[i] };
                _unseen.RememberLaunch(server); // its index is taken even while DescribeInstances does not show it (or its tag) yet
                launched.Add(server);
            }
            if (launched.Count < count)
                throw new LaunchIncompleteException(new TtmException(TtmErrorCode.BackendError, "EC2 returned fewer instances than asked for.", farmRole.ToString()), launched,
                    $"EC2 accepted a launch of {count} servers for farm role {farmRole} but returned {launched.Count}{Named(launched)}. Run Get-TtmServer -Farm {farmRole.Farm} to see what runs.");
            if (count > 1) TagEach(farmRole, launched, cancellationToken);
            return launched;
        }

        /// <summary>
        /// A group's launch: the group starts the instances (AwsScalingGroups.Launch), then each is
        /// tagged as a plain launch is (farm role, Name, index; the group's propagated tags may not
        /// be on it yet) and as protected by this recycle, so the hold's release knows which to put back.
        /// </summary>
        private IReadOnlyList<Server> LaunchInGroup(FarmRole farmRole, int count, List<int> indexes, CancellationToken cancellationToken)
        {
            IReadOnlyList<Server> ServersOf(IReadOnlyList<string> ids) => ids.Select((id, i) => new Server
            {
                Farm = farmRole.Farm, FarmId = farmRole.Farm, Alias = farmRole.Alias, Role = farmRole.Role, Index = indexes[i],
                Status = ServerStatus.Pending, Id = id, FarmRoleId = TtmTags.FarmRoleTemplate(farmRole.Farm, farmRole.Alias),
                Region = _region, AutoScalingGroup = farmRole.ScalingGroup, LaunchedAt = Clock.UtcNow,
            }).ToList();
            var launched = ServersOf(_scaling.Launch(farmRole, count, ServersOf, cancellationToken));
            foreach (var server in launched) _unseen.RememberLaunch(server);
            TagEach(farmRole, launched, cancellationToken, new List<Tag>
            {
                TtmTags.Tag(TtmTags.Farm, farmRole.Farm), TtmTags.Tag(TtmTags.Alias, farmRole.Alias), TtmTags.Tag(TtmTags.Role, farmRole.Role),
                TtmTags.Tag(TtmTags.ScaleInProtected, "recycle"),
            });
            // Protected only once tagged so: the release unprotects exactly what carries the tag.
            try
            {
                _scaling.Protect(farmRole, launched.Select(s => s.Id).ToList(), cancellationToken);
            }
            catch (OperationCanceledException stop)
            {
                throw new LaunchStoppedException(launched, stop);
            }
            catch (TtmException e)
            {
                throw new LaunchIncompleteException(e, launched,
                    $"Auto Scaling group {farmRole.ScalingGroup} launched {launched.Count} server(s) of farm role {farmRole}{Named(launched)}, but protecting them from scale-in failed: {e.Message} A recycle uses or terminates them.");
            }
            return launched;
        }

        /// <summary>Each server's Name and index (and <paramref name="shared"/>): one CreateTags each, as the values differ. A failure returns the batch in the exception.</summary>
        private void TagEach(FarmRole farmRole, IReadOnlyList<Server> launched, CancellationToken cancellationToken, List<Tag>? shared = null)
        {
            foreach (var server in launched)
            {
                for (var attempt = 0; ; attempt++)
                {
                    try
                    {
                        _calls.Call($"Tagging server {server.Name} ({server.Id})", cancellationToken, (ec2, cancel) => ec2.CreateTagsAsync(new CreateTagsRequest
                        {
                            Resources = new List<string> { server.Id },
                            Tags = OwnTags(farmRole, server.Index).Concat(shared ?? new List<Tag>()).ToList(),
                        }, cancel), server.Name, TtmErrorCode.ServerNotFound);
                        break;
                    }
                    catch (TtmException e) when (e.Code == TtmErrorCode.ServerNotFound && attempt < TagRetryDelays.Length)
                    {
                        Clock.Sleep(TagRetryDelays[attempt], cancellationToken);
                    }
                    catch (OperationCanceledException stop) when (!(stop is LaunchStoppedException))
                    {
                        // Ctrl+C between the launch and its tags: the recycle's stop terminates the batch.
                        throw new LaunchStoppedException(launched, stop);
                    }
                    catch (TtmException e)
                    {
                        throw new LaunchIncompleteException(e, launched,
                            $"Launched {launched.Count} servers of farm role {farmRole}{Named(launched)}, but tagging {server.Name} ({server.Id}) failed: {e.Message} " +
                            "A recycle uses or terminates them; otherwise terminate any that read index 0 (Get-TtmServer) or tag them by hand.");
                    }
                }
            }
        }

        private static List<Tag> OwnTags(FarmRole farmRole, int index) => new List<Tag>
        {
            TtmTags.Tag(TtmTags.Name, TtmTags.ServerDisplayName(farmRole.Farm, farmRole.Alias, index)),
            TtmTags.Tag(TtmTags.Index, index.ToString(CultureInfo.InvariantCulture)),
        };

        /// <summary>The <paramref name="count"/> lowest indexes from 1 that none of <paramref name="used"/> holds.</summary>
        internal static List<int> FreeIndexes(IEnumerable<int> used, int count)
        {
            var taken = new HashSet<int>(used);
            var free = new List<int>();
            for (var i = 1; free.Count < count; i++)
                if (!taken.Contains(i)) free.Add(i);
            return free;
        }

        /// <summary>The group each farm role (by template name) is, null for plain ones: one read of their templates.</summary>
        private Func<IReadOnlyCollection<string>, IReadOnlyDictionary<string, string?>> GroupsOfFarmRoles(CancellationToken cancellationToken) => ids =>
            _reads.Templates("Reading the farm roles of the servers to terminate", cancellationToken, new List<Filter> { TtmTags.Filter("launch-template-name", ids) })
                .Select(AwsMapping.FarmRoleOf).Where(r => r != null)
                .ToDictionary(r => r!.Id, r => r!.ScalingGroup, StringComparer.Ordinal);

        private static string Named(IReadOnlyList<Server> servers) =>
            servers.Count == 0 ? "" : $" ({string.Join(", ", servers.Take(5).Select(s => s.Id))}{(servers.Count > 5 ? ", …" : "")})";

        public void TerminateServers(IReadOnlyCollection<Server> servers, CancellationToken cancellationToken = default)
        {
            try
            {
                Terminate(servers, cancellationToken);
            }
            finally
            {
                _shared.Changed(AwsSharedReads.Servers);
            }
        }

        private void Terminate(IReadOnlyCollection<Server> servers, CancellationToken cancellationToken)
        {
            // A server of a group that is not its farm role is refused before any of the batch is terminated;
            // those of a group that is go through the group, which then launches nothing in their place.
            var (plain, inGroups) = _autoScaling.Split(servers, GroupsOfFarmRoles(cancellationToken), cancellationToken);
            foreach (var server in servers) _unseen.ForgetLaunch(server.Id);
            _scaling.Terminate(inGroups, cancellationToken);
            var ids = plain.Select(s => s.Id).Distinct(StringComparer.Ordinal).ToList();
            // An error names the servers as the operator knows them (RailsAppServer.2), not by instance id.
            var names = servers.GroupBy(s => s.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Name, StringComparer.Ordinal);
            for (var start = 0; start < ids.Count; start += TerminateIdsPerCall)
            {
                var chunk = ids.Skip(start).Take(TerminateIdsPerCall).ToList();
                _calls.Call($"Terminating {chunk.Count} server(s): {string.Join(", ", chunk.Take(3))}{(chunk.Count > 3 ? ", …" : "")}", cancellationToken,
                    (ec2, cancel) => ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = chunk }, cancel),
                    chunk.Count == 1 ? names[chunk[0]] : string.Join(", ", chunk.Take(3).Select(id => names[id])), TtmErrorCode.ServerNotFound);
            }
        }
    }
}

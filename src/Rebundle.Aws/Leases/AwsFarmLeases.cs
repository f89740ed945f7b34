using Amazon.EC2.Model;
using Rebundle.Aws.Ec2;
using Rebundle.Errors;
using Rebundle.Runbook;
using Rebundle.Safety;

namespace Rebundle.Aws
{
    /// <summary>
    /// Farm leases every machine sees: a <c>ttm:lease</c> tag (<see cref="LeaseTag"/>) on each
    /// farm-role launch template of the farm. EC2 has no conditional write, so taking leases is:
    /// read the farms' templates (one call for all farms), refuse if another run's live lease is
    /// there, tag them all (one call), wait the settle time, read them back. If any then carries
    /// another run's tag, two runs wrote at once: ours are taken back (DeleteTags with our value,
    /// so theirs stays) and this run is refused. While held, a timer renews the expiry; a run
    /// that dies stops renewing, and its lease lapses for -Force to break. One per connection:
    /// its lock guards the farms it holds and its renewal timer, and nothing of the backend's.
    /// </summary>
    internal sealed class AwsFarmLeases : IFarmLeases, IDisposable
    {
        // CreateTags and DeleteTags take up to 1,000 resources a call.
        private const int TagResources = 1000;

        private readonly Ec2Calls _calls;
        private readonly Ec2Reads _reads;
        private readonly IClock _clock;
        private readonly LeaseSettings _leaseSettings;
        private readonly string _leaseToken = LeaseTag.NewToken();
        private readonly object _leaseGate = new object();

        // Farms this connection holds, with how many acquisitions hold each (a rebundle holds its
        // farms while its recycles lease them again), and the grants whose tags are out there.
        private readonly Dictionary<string, HeldFarm> _heldFarms = new Dictionary<string, HeldFarm>(StringComparer.Ordinal);
        private readonly List<LeaseGrant> _grants = new List<LeaseGrant>();
        private Timer? _renewal;

        public AwsFarmLeases(Ec2Calls calls, Ec2Reads reads, IClock clock, LeaseSettings settings)
        {
            _calls = calls;
            _reads = reads;
            _clock = clock;
            _leaseSettings = settings;
        }

        public string Scope => $"a {TtmTags.Lease} tag on the farm's launch templates (every machine)";

        public IDisposable AcquireFarms(IReadOnlyCollection<string> farms, string purpose, bool breakExpired)
        {
            var distinct = farms.Distinct(StringComparer.Ordinal).OrderBy(f => f, StringComparer.Ordinal).ToList();
            lock (_leaseGate)
            {
                var fresh = distinct.Where(f => !_heldFarms.ContainsKey(f)).ToList();
                if (fresh.Count > 0)
                {
                    var grant = Take(fresh, purpose, breakExpired);
                    _grants.Add(grant);
                    foreach (var farm in fresh) _heldFarms[farm] = new HeldFarm(grant);
                    StartRenewal();
                }
                foreach (var farm in distinct) _heldFarms[farm].Count++;
            }
            return new FarmsLease(() => Release(distinct));
        }

        /// <summary>Journals are files on one machine: <see cref="LayeredLeases"/> locks them locally and never asks here.</summary>
        public IDisposable AcquireJournal(string journalPath, string purpose) =>
            throw new NotSupportedException("EC2 holds no journal locks; a journal is a file, locked on its machine (LayeredLeases).");

        private LeaseGrant Take(List<string> farms, string purpose, bool breakExpired)
        {
            var doing = "Taking the lease on farm " + string.Join(", ", farms);
            var templates = FarmTemplates(doing, farms);
            var now = _clock.UtcNow;
            foreach (var template in templates) CheckFree(template, now, breakExpired);

            var grant = new LeaseGrant(new LeaseHolder
            {
                User = _leaseSettings.User,
                Host = _leaseSettings.Host,
                ProcessId = _leaseSettings.ProcessId,
                Since = now,
                Purpose = purpose,
            }, templates);
            if (grant.TemplateIds.Count == 0) return grant; // farms without farm roles: nothing to tag
            grant.Written(grant.Renewed(_leaseToken, now, _leaseSettings), now, _leaseSettings);

            LaunchTemplate? rival;
            try
            {
                Tag(doing, grant.TemplateIds, grant.Value);
                // Anyone who read these farms free before our write has written by now; read after them.
                _clock.Sleep(_leaseSettings.SettleTime, CancellationToken.None);
                rival = FarmTemplates(doing, farms).FirstOrDefault(t => grant.TemplateIds.Contains(t.LaunchTemplateId) && TtmTags.Get(t.Tags, TtmTags.Lease) != grant.Value);
            }
            catch
            {
                TryUntag(grant.TemplateIds, grant.Value);
                throw;
            }
            if (rival == null) return grant;
            TryUntag(grant.TemplateIds, grant.Value);
            var farm = LeaseGrant.FarmOf(rival);
            var holder = LeaseTag.Parse(TtmTags.Get(rival.Tags, TtmTags.Lease))?.Holder.ToString() ?? "someone changed its tag";
            throw new TtmException(TtmErrorCode.FarmBusy,
                $"Farm {farm} was leased by another run at the same moment: {holder} ({TtmTags.Lease} tag on launch template {rival.LaunchTemplateName}). " +
                "This run took its own lease tags back and changed nothing; run it again once the other is done.", farm);
        }

        /// <summary>Refuses a template that carries another run's lease, unless it has lapsed and -Force breaks it.</summary>
        private void CheckFree(LaunchTemplate template, DateTimeOffset now, bool breakExpired)
        {
            var value = TtmTags.Get(template.Tags, TtmTags.Lease);
            if (value == null) return;
            var farm = LeaseGrant.FarmOf(template);
            var where = $"{TtmTags.Lease} tag on launch template {template.LaunchTemplateName}";
            var lease = LeaseTag.Parse(value);
            if (lease == null)
            {
                if (breakExpired) return;
                throw new TtmException(TtmErrorCode.FarmBusy,
                    $"Farm {farm} carries a lease Rebundle cannot read ({where}: '{value}'). If no run holds farm {farm}, pass -Force to take the lease over, or delete the tag in the EC2 console.", farm);
            }
            if (lease.Token == _leaseToken) return; // ours, left by a release that could not delete it
            // A holder on this very machine whose process has ended (kill -9, a crash) holds nothing:
            // its local lock died with it, and its tag must not block the resume for ten minutes.
            if (HolderHasExitedHere(lease.Holder)) return;
            if (lease.IsLiveAt(now))
                throw new TtmException(TtmErrorCode.FarmBusy,
                    $"Farm {farm} is leased by another run: {lease.Holder} ({where}). Wait for it to finish, or stop it. " +
                    "Its lease is renewed while it runs; if that run died, the lease lapses at its expiry and -Force then takes it over.", farm);
            if (!breakExpired)
                throw new TtmException(TtmErrorCode.FarmBusy,
                    $"Farm {farm} is leased by a run that stopped renewing its lease: {lease.Holder} ({where}). " +
                    $"Make sure that run is over (process {lease.Holder.ProcessId} on {lease.Holder.Host}), then pass -Force to take the lease over.", farm);
        }

        private bool HolderHasExitedHere(LeaseHolder holder)
        {
            if (!string.Equals(holder.Host, _leaseSettings.Host, StringComparison.OrdinalIgnoreCase) || holder.ProcessId <= 0) return false;
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(holder.ProcessId);
                // The id was reused by a process started after the lease was taken.
                return process.HasExited || process.StartTime.ToUniversalTime() > holder.Since.UtcDateTime.AddSeconds(1);
            }
            catch (ArgumentException)
            {
                return true; // no process with that id
            }
            catch (Exception e) when (e is InvalidOperationException || e is System.ComponentModel.Win32Exception || e is NotSupportedException)
            {
                return false; // cannot tell: treat it as alive
            }
        }

        private void Release(IReadOnlyList<string> farms)
        {
            lock (_leaseGate)
            {
                var released = new Dictionary<LeaseGrant, List<string>>();
                foreach (var farm in farms)
                {
                    if (!_heldFarms.TryGetValue(farm, out var held) || --held.Count > 0) continue;
                    _heldFarms.Remove(farm);
                    if (!released.TryGetValue(held.Grant, out var ids)) released[held.Grant] = ids = new List<string>();
                    ids.AddRange(held.Grant.Release(farm));
                }
                foreach (var pair in released)
                {
                    TryUntag(pair.Value, pair.Key.Value);
                    if (pair.Key.IsEmpty) _grants.Remove(pair.Key);
                }
                if (_grants.Count == 0) StopRenewal();
            }
        }

        /// <summary>At disconnect: every lease still held is given back.</summary>
        public void Dispose()
        {
            lock (_leaseGate)
            {
                StopRenewal();
                foreach (var grant in _grants) TryUntag(grant.TemplateIds, grant.Value);
                _grants.Clear();
                _heldFarms.Clear();
            }
        }

        // ---- Renewal ----------------------------------------------------------------------------

        private void StartRenewal() =>
            _renewal ??= new Timer(_ => RenewDue(), null, _leaseSettings.RenewalCheck, _leaseSettings.RenewalCheck);

        private void StopRenewal()
        {
            _renewal?.Dispose();
            _renewal = null;
        }

        /// <summary>
        /// The timer's work: renews each grant that is due. It never throws (an exception on a
        /// timer thread ends the process): a failed renewal is tried again at the next look, and
        /// the lease lapses only if none succeeds before it expires.
        /// </summary>
        private void RenewDue()
        {
            if (!Monitor.TryEnter(_leaseGate)) return; // a lease is being taken or given back: look again next time
            try
            {
                var now = _clock.UtcNow;
                foreach (var grant in _grants.Where(g => !g.Lost && g.TemplateIds.Count > 0 && now >= g.RenewAt).ToList())
                {
                    try { Renew(grant, now); }
                    catch (Exception) { }
                }
            }
            catch (Exception) { }
            finally { Monitor.Exit(_leaseGate); }
        }

        private void Renew(LeaseGrant grant, DateTimeOffset now)
        {
            var doing = "Renewing the lease on farm " + string.Join(", ", grant.Farms);
            // A run that takes over after our lease lapsed (we were cut off) keeps it: never overwrite another run's tag.
            if (FarmTemplates(doing, grant.Farms.ToList()).Any(t => grant.TemplateIds.Contains(t.LaunchTemplateId) && LeaseTag.Parse(TtmTags.Get(t.Tags, TtmTags.Lease))?.Token is string token && token != _leaseToken))
            {
                grant.Lost = true;
                return;
            }
            // Only a renewal that was written counts: a failed one is tried again at the next look.
            var renewed = grant.Renewed(_leaseToken, now, _leaseSettings);
            Tag(doing, grant.TemplateIds, renewed.Value);
            grant.Written(renewed, now, _leaseSettings);
        }

        // ---- Calls ------------------------------------------------------------------------------

        /// <summary>
        /// The farm-role templates of <paramref name="farms"/>: paginated DescribeLaunchTemplates,
        /// split at EC2's filter limit. Always from EC2, never a shared view's answer: a lease is
        /// judged on the tags as they are now.
        /// </summary>
        private List<LaunchTemplate> FarmTemplates(string doing, IReadOnlyCollection<string> farms) =>
            _reads.FarmRoleTemplates(doing, CancellationToken.None, farms);

        private void Tag(string doing, IReadOnlyCollection<string> templateIds, string value)
        {
            foreach (var ids in Ec2Reads.Chunks(templateIds, TagResources))
                _calls.Call(doing, CancellationToken.None, (ec2, cancel) => ec2.CreateTagsAsync(new CreateTagsRequest
                {
                    Resources = ids,
                    Tags = new List<Tag> { TtmTags.Tag(TtmTags.Lease, value) },
                }, cancel));
        }

        /// <summary>
        /// Deletes our lease tags: key and value, so a tag another run wrote over ours stays. Best
        /// effort: if EC2 cannot be reached the tag lapses at its expiry, which is what it is for.
        /// </summary>
        private void TryUntag(IReadOnlyCollection<string> templateIds, string value)
        {
            try
            {
                foreach (var ids in Ec2Reads.Chunks(templateIds, TagResources))
                    _calls.Call("Giving back a farm lease", CancellationToken.None, (ec2, cancel) => ec2.DeleteTagsAsync(new DeleteTagsRequest
                    {
                        Resources = ids,
                        Tags = new List<Tag> { TtmTags.Tag(TtmTags.Lease, value) },
                    }, cancel));
            }
            catch (TtmException) { }
        }

        private sealed class FarmsLease : IDisposable
        {
            private Action? _release;

            public FarmsLease(Action release) => _release = release;

            public void Dispose()
            {
                Interlocked.Exchange(ref _release, null)?.Invoke();
            }
        }
    }
}

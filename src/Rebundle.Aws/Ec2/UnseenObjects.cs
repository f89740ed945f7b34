using Rebundle.Backends;
using Rebundle.Domain;
using Rebundle.Runbook;

namespace Rebundle.Aws.Ec2
{
    /// <summary>
    /// EC2 is eventually consistent: an instance just launched or a launch template just made can
    /// be missing from Describe* answers for a while. This remembers what a session made until a
    /// read shows it (or <see cref="UnseenGrace"/> passes), and reads add it back: so two launches
    /// of one farm role never get the same server index, a wait or a stop's cleanup still finds
    /// the replacement, a role made a moment ago is found (and can be retired) and its image is
    /// not retired as unused, and an image made a moment ago is waited for and found by name.
    /// One per connection, shared by the backend and its parts; its lock guards only its own maps.
    /// </summary>
    public sealed class UnseenObjects
    {
        // EC2's delays are seconds; anything unseen after this long is left to what EC2 says.
        private static readonly TimeSpan UnseenGrace = TimeSpan.FromMinutes(10);

        private readonly IClock _clock;
        private readonly object _gate = new object();
        private readonly Dictionary<string, Server> _servers = new Dictionary<string, Server>(StringComparer.Ordinal);
        private readonly Dictionary<string, Role> _roles = new Dictionary<string, Role>(StringComparer.Ordinal);
        private readonly Dictionary<string, Image> _images = new Dictionary<string, Image>(StringComparer.Ordinal);

        public UnseenObjects(IClock clock) => _clock = clock;

        public void RememberLaunch(Server server)
        {
            lock (_gate) _servers[server.Id] = server with { Status = ServerStatus.Pending, LaunchedAt = server.LaunchedAt ?? _clock.UtcNow };
        }

        public void RememberImage(Image image)
        {
            lock (_gate) _images[image.Id] = image with { Status = ImageStatus.Pending, CreatedAt = image.CreatedAt ?? _clock.UtcNow };
        }

        public void RememberRole(Role role)
        {
            lock (_gate) _roles[role.Name] = role with { CreatedAt = role.CreatedAt ?? _clock.UtcNow };
        }

        /// <summary>A terminated server is not waited for or counted any more, seen or not.</summary>
        public void ForgetLaunch(string instanceId)
        {
            lock (_gate) _servers.Remove(instanceId);
        }

        public void ForgetRole(string name)
        {
            lock (_gate) _roles.Remove(name);
        }

        /// <summary>What EC2 returned, plus this session's images it does not show yet that <paramref name="wanted"/> picks (as Pending).</summary>
        public List<Image> WithUnseenImages(List<Image> read, Func<Image, bool> wanted)
        {
            lock (_gate)
            {
                foreach (var seen in read) _images.Remove(seen.Id);
                Forget(_images, i => i.CreatedAt);
                return read.Concat(_images.Values.Where(wanted)).ToList();
            }
        }

        /// <summary>What EC2 returned, plus this session's launches it does not show yet that the query asks for (as Pending).</summary>
        public List<Server> WithUnseenLaunches(List<Server> read, ServerQuery query)
        {
            lock (_gate)
            {
                foreach (var seen in read) _servers.Remove(seen.Id);
                Forget(_servers, s => s.LaunchedAt);
                var missing = _servers.Values.Where(s =>
                    (query.Farms == null || query.Farms.Contains(s.Farm)) &&
                    (query.Aliases == null || query.Aliases.Contains(s.Alias)) &&
                    (query.Ids == null || query.Ids.Contains(s.Id)) &&
                    (query.Statuses == null || query.Statuses.Count == 0 || query.Statuses.Contains(ServerStatus.Pending)));
                return read.Concat(missing).ToList();
            }
        }

        /// <summary>What EC2 returned, plus this session's roles it does not show yet.</summary>
        public List<Role> WithUnseenRoles(List<Role> read)
        {
            lock (_gate)
            {
                foreach (var seen in read) _roles.Remove(seen.Name);
                Forget(_roles, r => r.CreatedAt);
                return read.Concat(_roles.Values).ToList();
            }
        }

        public Role? UnseenRole(string name)
        {
            lock (_gate) return _roles.TryGetValue(name, out var role) ? role : null;
        }

        /// <summary>Whether a role made in this session, not yet shown by EC2, launches from the image.</summary>
        public bool UnseenRoleUses(string imageId)
        {
            lock (_gate) return _roles.Values.Any(r => r.ImageId == imageId);
        }

        private void Forget<T>(Dictionary<string, T> unseen, Func<T, DateTimeOffset?> madeAt)
        {
            var now = _clock.UtcNow;
            foreach (var stale in unseen.Where(p => madeAt(p.Value) is DateTimeOffset at && now - at > UnseenGrace).Select(p => p.Key).ToList())
                unseen.Remove(stale);
        }
    }
}

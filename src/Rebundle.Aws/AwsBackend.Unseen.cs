using Rebundle.Backends;
using Rebundle.Domain;

namespace Rebundle.Aws
{
    /// <summary>
    /// EC2 is eventually consistent: an instance just launched or a launch template just made can
    /// be missing from Describe* answers for a while. The backend remembers what it made in this
    /// session until a read shows it (or <see cref="UnseenGrace"/> passes), and reads add it back:
    /// so two launches of one farm role never get the same server index, a wait or a stop's
    /// cleanup still finds the replacement, a role made a moment ago is found (and can be
    /// retired) and its image is not retired as unused, and an image made a moment ago is waited
    /// for and found by name.
    /// </summary>
    public sealed partial class AwsBackend
    {
        // EC2's delays are seconds; anything unseen after this long is left to what EC2 says.
        private static readonly TimeSpan UnseenGrace = TimeSpan.FromMinutes(10);

        private readonly object _unseenGate = new object();
        private readonly Dictionary<string, Server> _unseenServers = new Dictionary<string, Server>(StringComparer.Ordinal);
        private readonly Dictionary<string, Role> _unseenRoles = new Dictionary<string, Role>(StringComparer.Ordinal);
        private readonly Dictionary<string, Image> _unseenImages = new Dictionary<string, Image>(StringComparer.Ordinal);

        private void RememberLaunch(Server server)
        {
            lock (_unseenGate) _unseenServers[server.Id] = server with { Status = ServerStatus.Pending, LaunchedAt = server.LaunchedAt ?? Clock.UtcNow };
        }

        private void RememberImage(Image image)
        {
            lock (_unseenGate) _unseenImages[image.Id] = image with { Status = ImageStatus.Pending, CreatedAt = image.CreatedAt ?? Clock.UtcNow };
        }

        /// <summary>A terminated server is not waited for or counted any more, seen or not.</summary>
        private void ForgetLaunch(string instanceId)
        {
            lock (_unseenGate) _unseenServers.Remove(instanceId);
        }

        /// <summary>What EC2 returned, plus this session's images it does not show yet that <paramref name="wanted"/> picks (as Pending).</summary>
        private List<Image> WithUnseenImages(List<Image> read, Func<Image, bool> wanted)
        {
            lock (_unseenGate)
            {
                foreach (var seen in read) _unseenImages.Remove(seen.Id);
                Forget(_unseenImages, i => i.CreatedAt);
                return read.Concat(_unseenImages.Values.Where(wanted)).ToList();
            }
        }

        private void RememberRole(Role role)
        {
            lock (_unseenGate) _unseenRoles[role.Name] = role with { CreatedAt = role.CreatedAt ?? Clock.UtcNow };
        }

        /// <summary>What EC2 returned, plus this session's launches it does not show yet that the query asks for (as Pending).</summary>
        private List<Server> WithUnseenLaunches(List<Server> read, ServerQuery query)
        {
            lock (_unseenGate)
            {
                foreach (var seen in read) _unseenServers.Remove(seen.Id);
                Forget(_unseenServers, s => s.LaunchedAt);
                var missing = _unseenServers.Values.Where(s =>
                    (query.Farms == null || query.Farms.Contains(s.Farm)) &&
                    (query.Aliases == null || query.Aliases.Contains(s.Alias)) &&
                    (query.Ids == null || query.Ids.Contains(s.Id)) &&
                    (query.Statuses == null || query.Statuses.Count == 0 || query.Statuses.Contains(ServerStatus.Pending)));
                return read.Concat(missing).ToList();
            }
        }

        /// <summary>What EC2 returned, plus this session's roles it does not show yet.</summary>
        private List<Role> WithUnseenRoles(List<Role> read)
        {
            lock (_unseenGate)
            {
                foreach (var seen in read) _unseenRoles.Remove(seen.Name);
                Forget(_unseenRoles, r => r.CreatedAt);
                return read.Concat(_unseenRoles.Values).ToList();
            }
        }

        private void ForgetRole(string name)
        {
            lock (_unseenGate) _unseenRoles.Remove(name);
        }

        private Role? UnseenRole(string name)
        {
            lock (_unseenGate) return _unseenRoles.TryGetValue(name, out var role) ? role : null;
        }

        /// <summary>Whether a role made in this session, not yet shown by EC2, launches from the image.</summary>
        private bool UnseenRoleUses(string imageId)
        {
            lock (_unseenGate) return _unseenRoles.Values.Any(r => r.ImageId == imageId);
        }

        private void Forget<T>(Dictionary<string, T> unseen, Func<T, DateTimeOffset?> madeAt)
        {
            var now = Clock.UtcNow;
            foreach (var stale in unseen.Where(p => madeAt(p.Value) is DateTimeOffset at && now - at > UnseenGrace).Select(p => p.Key).ToList())
                unseen.Remove(stale);
        }
    }
}

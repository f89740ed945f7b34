using Rebundle.Errors;

namespace Rebundle.Scalr
{
    // POSTs that must not happen twice. When a POST's answer is lost (timeout, dropped
    // connection, 5xx) Scalr may have acted: the backend reads whether it did and goes on from
    // what exists, and sends the POST again only when the read shows it did not happen.
    public sealed partial class ScalrBackend
    {
        private static readonly TimeSpan FirstReconcilePause = TimeSpan.FromSeconds(1);

        /// <summary>
        /// <paramref name="post"/> once; after a lost answer, <paramref name="existing"/> says what
        /// the POST would have made (null: it did not happen, so it is sent again, at most MaxRetries times).
        /// </summary>
        private T PostOnce<T>(string what, Func<T> post, Func<T?> existing, CancellationToken cancellationToken) where T : class
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    return post();
                }
                catch (ScalrOutcomeUnknownException lost)
                {
                    var found = existing();
                    if (found != null)
                    {
                        _client.Log?.Invoke($"Scalr lost the answer to {what}, but it was done; going on from what exists.");
                        return found;
                    }
                    if (attempt >= _options.MaxRetries) throw lost.Lost;
                    _client.Log?.Invoke($"Scalr lost the answer to {what}, and it was not done; sending it again.");
                    Clock.Sleep(TimeSpan.FromTicks(FirstReconcilePause.Ticks << Math.Min(attempt, 5)), cancellationToken);
                }
            }
        }

        /// <summary>True once Scalr is terminating the server or has terminated it.</summary>
        private bool IsTerminatingOrGone(string serverId, CancellationToken cancellationToken)
        {
            try
            {
                var status = ScalrServer.From(_client.Get($"servers/{serverId}/", null, cancellationToken)).Status;
                return status == "pending_terminate" || status == "terminated";
            }
            catch (TtmException e) when (e.Code == TtmErrorCode.ServerNotFound)
            {
                return true; // Scalr forgets terminated servers after a while
            }
        }

        /// <summary>A farm role's servers now: to count them against its maximum, and to tell a server launched since from those before.</summary>
        private IReadOnlyList<ScalrServer> ServersOf(string farmRoleId, CancellationToken cancellationToken) =>
            _client.List($"farm-roles/{farmRoleId}/servers/", null, cancellationToken).Select(ScalrServer.From).ToList();

        private ScalrServer? LaunchedSince(string farmRoleId, HashSet<string> before, CancellationToken cancellationToken) =>
            _client.List($"farm-roles/{farmRoleId}/servers/", null, cancellationToken).Select(ScalrServer.From)
                .Where(s => !before.Contains(s.Id))
                .OrderByDescending(s => s.Launched ?? DateTimeOffset.MinValue).ThenByDescending(s => s.Index)
                .FirstOrDefault();

        private ScalrRole? RoleNamed(string name, CancellationToken cancellationToken) =>
            _client.List("roles/", new[] { new KeyValuePair<string, string>("name", name) }, cancellationToken).Select(ScalrRole.From)
                .FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));

        /// <summary>The registered Scalr image of an AMI, read with a cloudImageId filter (never the whole list).</summary>
        private ScalrImage? RegisteredImage(string amiId, CancellationToken cancellationToken) =>
            _client.List("images/", new[] { new KeyValuePair<string, string>("cloudImageId", amiId) }, cancellationToken).Select(ScalrImage.From)
                .FirstOrDefault(i => string.Equals(i.CloudImageId, amiId, StringComparison.Ordinal));

        /// <summary>A marker object for POSTs whose answer the backend does not need.</summary>
        private sealed class Done
        {
            public static readonly Done Instance = new Done();
        }
    }
}

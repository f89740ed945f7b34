using System.Text.RegularExpressions;

namespace Rebundle.Remote
{
    /// <summary>Building POSIX shell command lines safely.</summary>
    public static class ShellText
    {
        private static readonly Regex PackageName = new Regex(@"^[a-z0-9][a-z0-9+.\-]*(:[a-z0-9\-]+)?(=[A-Za-z0-9.+~:\-]+)?$", RegexOptions.CultureInvariant);
        private static readonly Regex ServiceName = new Regex(@"^[A-Za-z0-9][A-Za-z0-9_.@:\-]*$", RegexOptions.CultureInvariant);

        /// <summary>Single-quotes <paramref name="text"/> so the shell takes it literally.</summary>
        public static string Quote(string text) => "'" + text.Replace("'", "'\"'\"'") + "'";

        /// <summary>
        /// Runs the rest of the line as root: directly when logged in as root, else through
        /// <c>sudo -n</c> (never prompting, so a missing sudo right fails fast instead of hanging).
        /// </summary>
        /// <summary>
        /// A reboot over SSM Run Command: exit 194 asks the agent to reboot the server and run the
        /// script again when it is back; the marker file (named for this reboot) makes the second
        /// run end at once with 0, so the command ends once the server is back. A plain
        /// <c>reboot</c> would kill the agent's script mid-way and leave the invocation to chance.
        /// </summary>
        public static string RebootThroughAgent(string marker) =>
            $"m={Quote("/var/tmp/rebundle-reboot-" + marker)}; if [ -f \"$m\" ]; then rm -f \"$m\"; exit 0; fi; touch \"$m\" && exit 194";

        public const string AsRoot = "if [ \"$(id -u)\" -eq 0 ]; then SUDO=; else SUDO='sudo -n'; fi; $SUDO ";

        /// <summary>A Debian package name, optionally with <c>:arch</c> and <c>=version</c>.</summary>
        public static bool IsPackageName(string name) => PackageName.IsMatch(name);

        /// <summary>A systemd unit name.</summary>
        public static bool IsServiceName(string name) => ServiceName.IsMatch(name);
    }
}

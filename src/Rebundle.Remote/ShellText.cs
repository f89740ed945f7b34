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
        public const string AsRoot = "if [ \"$(id -u)\" -eq 0 ]; then SUDO=; else SUDO='sudo -n'; fi; $SUDO ";

        /// <summary>A Debian package name, optionally with <c>:arch</c> and <c>=version</c>.</summary>
        public static bool IsPackageName(string name) => PackageName.IsMatch(name);

        /// <summary>A systemd unit name.</summary>
        public static bool IsServiceName(string name) => ServiceName.IsMatch(name);
    }
}

using Rebundle.Errors;

namespace Rebundle.Remote
{
    /// <summary>The kinds of check Test-TtmServer runs.</summary>
    public enum ServerCheckKind
    {
        /// <summary>Chef's last run on the server succeeded.</summary>
        Chef,

        /// <summary>Named systemd services are active.</summary>
        Service,

        /// <summary>Named Debian packages are installed.</summary>
        Package,

        /// <summary>Custom commands exit with 0.</summary>
        Command,
    }

    /// <summary>One check to run on a server: its kind and what it is about (a service, package, command or Chef cache path).</summary>
    public sealed record ServerCheck(ServerCheckKind Kind, string Subject)
    {
        /// <summary>How results name the check: <c>Chef</c>, <c>Service nginx</c>, <c>Package nginx</c>, <c>Command test -f /x</c>.</summary>
        public string Name => Kind == ServerCheckKind.Chef ? "Chef" : $"{Kind} {Subject}";

        public const string DefaultChefCachePath = "/var/chef/cache";

        /// <summary>
        /// The checks for one Test-TtmServer call: the kinds asked for (all when none), each
        /// with its subjects. Fails on a kind asked for without subjects and on malformed names.
        /// </summary>
        public static IReadOnlyList<ServerCheck> Plan(
            IReadOnlyCollection<ServerCheckKind>? kinds,
            string? chefCachePath,
            IReadOnlyCollection<string>? services,
            IReadOnlyCollection<string>? packages,
            IReadOnlyCollection<string>? commands)
        {
            var explicitKinds = kinds != null && kinds.Count > 0;
            bool Wanted(ServerCheckKind kind) => !explicitKinds || kinds!.Contains(kind);
            var checks = new List<ServerCheck>();
            if (Wanted(ServerCheckKind.Chef))
                checks.Add(new ServerCheck(ServerCheckKind.Chef, string.IsNullOrWhiteSpace(chefCachePath) ? DefaultChefCachePath : chefCachePath!));
            checks.AddRange(Subjects(ServerCheckKind.Service, services, explicitKinds && Wanted(ServerCheckKind.Service), "-Service", ShellText.IsServiceName));
            checks.AddRange(Subjects(ServerCheckKind.Package, packages, explicitKinds && Wanted(ServerCheckKind.Package), "-PackageName", ShellText.IsPackageName));
            checks.AddRange(Subjects(ServerCheckKind.Command, commands, explicitKinds && Wanted(ServerCheckKind.Command), "-Command", c => c.Trim().Length > 0));
            var leftOut = explicitKinds ? checks.Where(c => !kinds!.Contains(c.Kind)).Select(c => c.Kind).Distinct().ToList() : new List<ServerCheckKind>();
            if (leftOut.Count > 0)
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    $"-Check leaves out {string.Join(", ", leftOut)}, but checks of that kind were named. Add {string.Join(", ", leftOut)} to -Check, or drop -Check to run every kind.",
                    string.Join(", ", leftOut));
            return checks;
        }

        private static IEnumerable<ServerCheck> Subjects(ServerCheckKind kind, IReadOnlyCollection<string>? subjects, bool required, string parameter, Func<string, bool> valid)
        {
            var list = (subjects ?? Array.Empty<string>()).ToList();
            if (required && list.Count == 0)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"-Check {kind} needs something to check: name it with {parameter}.", kind.ToString());
            var bad = list.Where(s => !valid(s)).ToList();
            if (bad.Count > 0)
                throw new TtmException(TtmErrorCode.InvalidArgument, $"Not a valid {kind.ToString().ToLowerInvariant()} for {parameter}: '{string.Join("', '", bad)}'.", string.Join(", ", bad));
            return list.Select(s => new ServerCheck(kind, s));
        }
    }

    /// <summary>One check's verdict on one server: what Test-TtmServer reports per check.</summary>
    public sealed record ServerCheckResult
    {
        public string Server { get; init; } = "";

        public string Farm { get; init; } = "";

        /// <summary>The check's name, e.g. <c>Chef</c> or <c>Service nginx</c>.</summary>
        public string Check { get; init; } = "";

        public ServerCheckKind Kind { get; init; }

        public bool Passed { get; init; }

        /// <summary>What was found, in words: <c>last run succeeded (cache updated 2026-…)</c>, <c>inactive</c>, …</summary>
        public string Detail { get; init; } = "";

        public override string ToString() => $"{(Passed ? "PASS" : "FAIL")} {Server} {Check}: {Detail}";
    }
}

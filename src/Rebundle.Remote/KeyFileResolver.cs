using System.IO;
using Rebundle.Errors;

namespace Rebundle.Remote
{
    /// <summary>
    /// Finds the private key for a server: the operator's -KeyFile, else the farm's key by the
    /// Scalr convention <c>~/.ssh/FARM-&lt;farmId&gt;.&lt;region&gt;.private.pem</c>. Pure: the home
    /// directory and the file-exists test are inputs, so it is tested without a file system.
    /// </summary>
    public sealed class KeyFileResolver
    {
        private readonly string _homeDirectory;
        private readonly Func<string, bool> _fileExists;

        public KeyFileResolver(string homeDirectory, Func<string, bool> fileExists)
        {
            _homeDirectory = homeDirectory;
            _fileExists = fileExists;
        }

        /// <summary>The key file name the convention gives a farm's servers in a region.</summary>
        public static string ConventionFileName(string farmId, string region) => $"FARM-{farmId}.{region}.private.pem";

        /// <summary>Every path looked at for this server, in order.</summary>
        public IReadOnlyList<string> Candidates(string? explicitKeyFile, string farmId, string? region)
        {
            if (!string.IsNullOrWhiteSpace(explicitKeyFile)) return new[] { ExpandHome(explicitKeyFile!) };
            if (string.IsNullOrEmpty(farmId) || string.IsNullOrEmpty(region)) return Array.Empty<string>();
            return new[] { Path.Combine(_homeDirectory, ".ssh", ConventionFileName(farmId, region!)) };
        }

        /// <summary>The key file to use, or a <see cref="TtmErrorCode.SshKeyNotFound"/> error naming every path looked at.</summary>
        public string Resolve(string? explicitKeyFile, string farmId, string? region, string serverName)
        {
            var candidates = Candidates(explicitKeyFile, farmId, region);
            var found = candidates.FirstOrDefault(_fileExists);
            if (found != null) return found;

            string why;
            if (!string.IsNullOrWhiteSpace(explicitKeyFile))
                why = $"The key file given with -KeyFile does not exist: {candidates[0]}.";
            else if (candidates.Count == 0)
                why = $"Server {serverName} has no {(string.IsNullOrEmpty(farmId) ? "farm id" : "region")}, so the farm key file name (FARM-<farmId>.<region>.private.pem) cannot be built; no path was looked at.";
            else
                why = "No key file was found. Looked for: " + string.Join(", ", candidates) + ".";
            throw new TtmException(TtmErrorCode.SshKeyNotFound,
                $"{why} Pass the private key with -KeyFile, or save the farm's key as {Path.Combine(_homeDirectory, ".ssh", "FARM-<farmId>.<region>.private.pem")}.",
                serverName);
        }

        private string ExpandHome(string path) =>
            path == "~" ? _homeDirectory
            : path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(_homeDirectory, path.Substring(2))
            : path;
    }
}

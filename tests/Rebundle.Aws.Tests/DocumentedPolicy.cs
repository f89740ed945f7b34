using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace Rebundle.Aws.Tests;

/// <summary>What docs/aws.md's IAM policies name, and the source a service's typed calls are in: the two sides the policy tests compare.</summary>
internal static class DocumentedPolicy
{
    /// <summary>Every "<paramref name="service"/>:Action" the JSON statements of docs/aws.md name.</summary>
    public static HashSet<string> Actions(string service) =>
        Regex.Matches(RepoFile("docs", "aws.md"), "\"(" + Regex.Escape(service) + @":\w+)""").Select(m => m.Groups[1].Value).ToHashSet();

    /// <summary>A file of the repository, read from the folder holding Rebundle.sln above the test's output.</summary>
    public static string RepoFile(params string[] path)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "Rebundle.sln"))) root = root.Parent!;
        return File.ReadAllText(Path.Combine(new[] { root.FullName }.Concat(path).ToArray()));
    }
}

using System;
using System.Threading;
using System.Threading.Tasks;
using System.Text.RegularExpressions;
using Rebundle.TestFakes;

namespace Rebundle.ScalrApi;

/// <summary>A stalled Scalr as Ctrl+C meets it: chosen requests' answers held until released (<see cref="HeldAnswers{TRequest}"/>).</summary>
public sealed class AnswerStalls : HeldAnswers<(string Method, string Path)>
{
    /// <summary>Requests of <paramref name="method"/> whose path matches <paramref name="pathPattern"/> wait until <see cref="HeldAnswers{TRequest}.Release"/>.</summary>
    public void Stall(string method, string pathPattern)
    {
        var path = new Regex(pathPattern, RegexOptions.CultureInvariant);
        StallWhere(r => string.Equals(r.Method, method, StringComparison.OrdinalIgnoreCase) && path.IsMatch(r.Path));
    }

    /// <summary>Waits while the request is stalled; false when the client gave up meanwhile.</summary>
    internal Task<bool> Hold(string method, string path, CancellationToken clientGone) => HoldIfStalled((method, path), clientGone);
}

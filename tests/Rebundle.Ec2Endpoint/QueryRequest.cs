using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace Rebundle.Ec2Endpoint;

/// <summary>A filter as EC2 receives it: <c>Filter.N.Name</c> with values <c>Filter.N.Value.M</c>.</summary>
public sealed record Ec2Filter(string Name, IReadOnlyList<string> Values);

/// <summary>
/// The form parameters of one EC2 Query request, with the EC2 conventions for lists
/// (<c>Name.1</c>, <c>Name.2</c>, …), filters, tags and tag specifications.
/// </summary>
public sealed class QueryRequest
{
    public QueryRequest(IReadOnlyDictionary<string, string> parameters)
    {
        Parameters = parameters;
        Action = Get("Action") ?? "";
    }

    public IReadOnlyDictionary<string, string> Parameters { get; }

    public string Action { get; }

    public string? Get(string name) => Parameters.TryGetValue(name, out var value) ? value : null;

    public string Require(string name) =>
        Get(name) is { Length: > 0 } value ? value : throw new Ec2Error("MissingParameter", $"The request must contain the parameter {name}.");

    public int? Int(string name)
    {
        var text = Get(name);
        if (text == null) return null;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new Ec2Error("InvalidParameterValue", $"Value ({text}) for parameter {name} is invalid. Expected an integer.");
    }

    public bool Bool(string name) => string.Equals(Get(name), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Values of <c>prefix.1</c>, <c>prefix.2</c>, … in numeric order.</summary>
    public IReadOnlyList<string> List(string prefix) =>
        Numbered(prefix).Select(n => Get(prefix + "." + n)).Where(v => v != null).Select(v => v!).ToList();

    public IReadOnlyList<Ec2Filter> Filters() =>
        Numbered("Filter").Select(n => new Ec2Filter(
            Get($"Filter.{n}.Name") ?? throw new Ec2Error("InvalidParameterValue", $"Filter.{n} has no Name."),
            List($"Filter.{n}.Value"))).ToList();

    /// <summary>Tags given as <c>prefix.N.Key</c> / <c>prefix.N.Value</c>.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Tags(string prefix = "Tag") =>
        Numbered(prefix).Select(n => new KeyValuePair<string, string>(
            Get($"{prefix}.{n}.Key") ?? throw new Ec2Error("InvalidParameterValue", $"{prefix}.{n} has no Key."),
            Get($"{prefix}.{n}.Value") ?? "")).ToList();

    /// <summary>DeleteTags' <c>Tag.N.Key</c> with its <c>Tag.N.Value</c>, null when the value is left out (any value).</summary>
    public IReadOnlyList<(string Key, string? Value)> TagKeys(string prefix = "Tag") =>
        Numbered(prefix).Select(n => (
            Get($"{prefix}.{n}.Key") ?? throw new Ec2Error("InvalidParameterValue", $"{prefix}.{n} has no Key."),
            Get($"{prefix}.{n}.Value"))).ToList();

    /// <summary>Tags of the tag specifications for <paramref name="resourceType"/>.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> TagsFor(string resourceType) =>
        Numbered("TagSpecification")
            .Where(n => string.Equals(Get($"TagSpecification.{n}.ResourceType"), resourceType, StringComparison.Ordinal))
            .SelectMany(n => Tags($"TagSpecification.{n}.Tag"))
            .ToList();

    /// <summary>Every parameter under <c>prefix.</c>, keyed by the rest of its name.</summary>
    public IReadOnlyDictionary<string, string> Under(string prefix) =>
        Parameters.Where(p => p.Key.StartsWith(prefix + ".", StringComparison.Ordinal))
            .ToDictionary(p => p.Key.Substring(prefix.Length + 1), p => p.Value, StringComparer.Ordinal);

    private IEnumerable<int> Numbered(string prefix)
    {
        var pattern = new Regex("^" + Regex.Escape(prefix) + @"\.(\d+)(\.|$)");
        return Parameters.Keys
            .Select(k => pattern.Match(k))
            .Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
            .Distinct()
            .OrderBy(n => n);
    }
}

/// <summary>An EC2 error answer: <c>&lt;Response&gt;&lt;Errors&gt;&lt;Error&gt;&lt;Code&gt;…</c> with an HTTP status.</summary>
public sealed class Ec2Error : Exception
{
    public Ec2Error(string code, string message, int status = 400) : base(message)
    {
        Code = code;
        Status = status;
    }

    public string Code { get; }

    public int Status { get; }
}

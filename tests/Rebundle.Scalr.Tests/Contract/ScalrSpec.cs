using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Any;
using Microsoft.OpenApi.Extensions;
using Microsoft.OpenApi.Models;
using Microsoft.OpenApi.Readers;

namespace Rebundle.Scalr.Tests.Contract;

/// <summary>
/// Scalr's own Swagger 2.0 spec of the user API (tests/reference/scalr, Apache-2.0), read with
/// Microsoft.OpenApi.Readers, and a checker for one request and its answer: the route and
/// method exist, path parameters have the spec's types, list queries use only maxResults
/// (1–100), pageNum and the item's filterable fields, a request body validates against its
/// schema (required fields, enums, types; no read-only or undeclared field, no null) and the
/// answer validates against the schema of its status. Bodies are validated with JsonSchema.Net
/// against the spec's definitions, turned into one JSON Schema document.
/// </summary>
public sealed class ScalrSpec
{
    public const string BasePath = "/api/v1beta0/user";

    private static readonly Lazy<ScalrSpec> Shared = new(() => new ScalrSpec(Path.Combine(AppContext.BaseDirectory, "reference", "scalr")));
    private static int _schemaCount;

    private readonly OpenApiDocument _document;
    private readonly JsonObject _v3;
    private readonly JsonObject _defs;
    private readonly HashSet<(string Route, string Method)> _scalrCtlRoutes;
    private readonly ConcurrentDictionary<string, JsonSchema> _schemas = new();
    private readonly List<(string Template, Regex Pattern)> _templates;

    private ScalrSpec(string folder)
    {
        _document = new OpenApiStringReader().Read(File.ReadAllText(Path.Combine(folder, "user-v1beta0.yaml")), out var diagnostic);
        // Scalr's spec misspells "description" in a few scaling-rule fields (descritpion, desctiption…);
        // those are documentation only. Anything else the reader objects to is a real problem.
        var errors = diagnostic.Errors.Where(e => !Regex.IsMatch(e.Message, @"^(descritpion|descripiton|desctiption|descrition) is not a valid property")).ToList();
        if (errors.Count > 0)
            throw new InvalidDataException("Scalr's spec did not read cleanly: " + string.Join("; ", errors.Select(e => e.Message)));
        // The model written back as OpenAPI 3 JSON: schemas under components, one $ref form.
        _v3 = JsonNode.Parse(_document.SerializeAsJson(OpenApiSpecVersion.OpenApi3_0))!.AsObject();
        _defs = JsonNode.Parse(_v3["components"]!["schemas"]!.ToJsonString().Replace("#/components/schemas/", "#/$defs/"))!.AsObject();
        _templates = _document.Paths.Keys
            .Select(t => (t, new Regex("^" + Regex.Replace(Regex.Escape(t), @"\\\{[^/]+?}", "[^/]+") + "$")))
            .ToList();
        _scalrCtlRoutes = ScalrCtlRoutes(Path.Combine(folder, "scalr-ctl-scheme.json"));
    }

    public static ScalrSpec Instance => Shared.Value;

    public int PathCount => _document.Paths.Count;

    public int DefinitionCount => _document.Components.Schemas.Count;

    /// <summary>The values of a definition's enum property, e.g. ServerSummary.status.</summary>
    public IReadOnlyList<string> EnumOf(string definition, string property) =>
        _document.Components.Schemas[definition].Properties[property].Enum.OfType<OpenApiString>().Select(s => s.Value).ToList();

    /// <summary>Every way a request and its answer leave the spec; empty when both conform.</summary>
    public IReadOnlyList<string> Check(string method, string path, string query, string requestBody, int status, string responseBody)
    {
        var problems = new List<string>();
        var what = $"{method} {path}{(query.Length > 0 ? "?" + query : "")}";
        if (!path.StartsWith(BasePath + "/", StringComparison.Ordinal))
            return new[] { $"{what}: not under {BasePath}" };
        var route = path[BasePath.Length..];
        var template = Template(route);
        if (template == null) return new[] { $"{what}: no route in the spec matches {route}" };

        var item = _document.Paths[template];
        var operationType = Enum.GetValues<OperationType>().FirstOrDefault(o => o.ToString().Equals(method, StringComparison.OrdinalIgnoreCase));
        if (!item.Operations.TryGetValue(operationType, out var operation))
        {
            // The 5.11 spec lacks launch-server; scalr-ctl's newer route map has it. Route only, no schema to check.
            if (_scalrCtlRoutes.Contains((template, method.ToLowerInvariant()))) return problems;
            return new[] { $"{what}: the spec has no {method} on {template}" };
        }

        problems.AddRange(CheckPathParameters(what, template, route, item, operation));
        problems.AddRange(CheckQuery(what, query, operation));
        problems.AddRange(CheckRequestBody(what, template, method, requestBody, operation));
        problems.AddRange(CheckResponse(what, template, method, status, responseBody));
        return problems;
    }

    /// <summary>The errors of validating <paramref name="json"/> against a definition (as a request when asked).</summary>
    public IReadOnlyList<string> Validate(string definition, string json, bool asRequest = false)
    {
        var node = JsonNode.Parse(json);
        var problems = new List<string>();
        if (asRequest) problems.AddRange(RequestShape(definition, node, _defs[definition]!.AsObject()));
        problems.AddRange(Evaluate(SchemaFor("#def:" + definition, () => new JsonObject { ["$ref"] = "#/$defs/" + definition }), asRequest ? node : WithoutNulls(node)));
        return problems;
    }

    private string? Template(string route) =>
        _templates.Where(t => t.Pattern.IsMatch(route))
            // The most literal template wins: /roles/{id}/images/ over a template with more parameters.
            .OrderBy(t => t.Template.Count(c => c == '{'))
            .Select(t => t.Template).FirstOrDefault();

    private static IEnumerable<string> CheckPathParameters(string what, string template, string route, OpenApiPathItem item, OpenApiOperation operation)
    {
        var names = template.Split('/');
        var values = route.Split('/');
        var parameters = item.Parameters.Concat(operation.Parameters).Where(p => p.In == ParameterLocation.Path).ToDictionary(p => p.Name);
        for (var i = 0; i < names.Length; i++)
        {
            if (!names[i].StartsWith('{')) continue;
            var name = names[i].Trim('{', '}');
            if (!parameters.TryGetValue(name, out var parameter)) { yield return $"{what}: path parameter {name} is not declared"; continue; }
            if (parameter.Schema?.Type == "integer" && !long.TryParse(values[i], out _))
                yield return $"{what}: path parameter {name}='{values[i]}' is not an integer";
            if (parameter.Schema?.Pattern is { } pattern && !Regex.IsMatch(values[i], "^(" + pattern + ")$"))
                yield return $"{what}: path parameter {name}='{values[i]}' does not match {pattern}";
        }
    }

    private IEnumerable<string> CheckQuery(string what, string query, OpenApiOperation operation)
    {
        var pairs = query.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).Select(p => (Key: Uri.UnescapeDataString(p[0]), Value: p.Length > 1 ? Uri.UnescapeDataString(p[1]) : "")).ToList();
        if (pairs.Count == 0) yield break;
        var itemDefinition = ListItemDefinition(operation);
        if (itemDefinition == null) { yield return $"{what}: a query on a route that is not a list"; yield break; }
        var filterable = _document.Components.Schemas[itemDefinition].Extensions.TryGetValue("x-filterable", out var f) && f is OpenApiArray array
            ? array.OfType<OpenApiString>().Select(s => s.Value).ToHashSet()
            : new HashSet<string>();
        foreach (var (key, value) in pairs)
        {
            switch (key)
            {
                case "maxResults":
                    if (!int.TryParse(value, out var max) || max < 1 || max > 100) yield return $"{what}: maxResults={value} is not 1–100";
                    break;
                case "pageNum":
                    if (!int.TryParse(value, out var page) || page < 1) yield return $"{what}: pageNum={value} is not a page number";
                    break;
                default:
                    if (!filterable.Contains(key)) yield return $"{what}: {itemDefinition} cannot be filtered on '{key}' (x-filterable: {string.Join(", ", filterable)})";
                    break;
            }
        }
    }

    private static string? ListItemDefinition(OpenApiOperation operation)
    {
        if (!operation.Responses.TryGetValue("200", out var ok)) return null;
        var schema = ok.Content.Values.FirstOrDefault()?.Schema;
        return schema != null && schema.Properties.TryGetValue("data", out var data) && data.Type == "array" ? data.Items?.Reference?.Id : null;
    }

    private IEnumerable<string> CheckRequestBody(string what, string template, string method, string body, OpenApiOperation operation)
    {
        var node = string.IsNullOrWhiteSpace(body) ? null : JsonNode.Parse(body);
        if (operation.RequestBody == null)
        {
            if (node != null) yield return $"{what}: sends a body to an operation that takes none";
            yield break;
        }
        if (node == null)
        {
            if (operation.RequestBody.Required) yield return $"{what}: the body is required";
            yield break;
        }
        var bodySchema = _v3["paths"]![template]![method.ToLowerInvariant()]!["requestBody"]!["content"]!.AsObject().First().Value!["schema"]!;
        var definition = bodySchema["$ref"]?.GetValue<string>().Split('/').Last();
        var partial = method.Equals("PATCH", StringComparison.OrdinalIgnoreCase);
        var shape = definition == null ? bodySchema.AsObject() : _defs[definition]!.AsObject();
        foreach (var problem in RequestShape(definition ?? "body", node, shape)) yield return $"{what}: {problem}";
        var schema = SchemaFor($"{template} {method} body", () =>
        {
            var copy = JsonNode.Parse(shape.ToJsonString().Replace("#/components/schemas/", "#/$defs/"))!.AsObject();
            if (partial) copy.Remove("required"); // PATCH sends only what changes
            return copy;
        });
        foreach (var problem in Evaluate(schema, node)) yield return $"{what}: body {problem}";
    }

    /// <summary>What JSON Schema alone does not say about a request: no nulls, no read-only or undeclared fields.</summary>
    private static IEnumerable<string> RequestShape(string definition, JsonNode? node, JsonObject shape)
    {
        if (node is not JsonObject body) yield break;
        var properties = shape["properties"] as JsonObject ?? new JsonObject();
        foreach (var (name, value) in body)
        {
            if (value == null) yield return $"{definition}.{name} is null (leave it out instead)";
            if (!properties.ContainsKey(name)) yield return $"{definition} has no property '{name}'";
            else if (properties[name]!["readOnly"]?.GetValue<bool>() == true) yield return $"{definition}.{name} is read-only";
        }
    }

    private IEnumerable<string> CheckResponse(string what, string template, string method, int status, string body)
    {
        var responses = _v3["paths"]![template]![method.ToLowerInvariant()]!["responses"]!.AsObject();
        var response = responses[status.ToString()] ?? responses["default"];
        if (response == null) { yield return $"{what}: the spec has no {status} answer"; yield break; }
        var schemaNode = response["content"]?.AsObject().FirstOrDefault().Value?["schema"];
        if (schemaNode == null) yield break;
        var schema = SchemaFor($"{template} {method} {status}", () => JsonNode.Parse(schemaNode.ToJsonString().Replace("#/components/schemas/", "#/$defs/"))!.AsObject());
        foreach (var problem in Evaluate(schema, WithoutNulls(string.IsNullOrWhiteSpace(body) ? null : JsonNode.Parse(body))))
            yield return $"{what}: answer {status} {problem}";
    }

    /// <summary>One compiled schema per key: the given root with every spec definition under $defs.</summary>
    private JsonSchema SchemaFor(string key, Func<JsonObject> root) => _schemas.GetOrAdd(key, _ =>
    {
        var document = OnlySchemaKeywords(root())!.AsObject();
        document["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        document["$defs"] = OnlySchemaKeywords(_defs);
        var n = System.Threading.Interlocked.Increment(ref _schemaCount);
        return JsonSchema.FromText(document.ToJsonString(), new BuildOptions(), new Uri($"https://scalr-spec.test/schema/{n}"));
    });

    private static IEnumerable<string> Evaluate(JsonSchema schema, JsonNode? instance)
    {
        using var document = JsonDocument.Parse(instance?.ToJsonString() ?? "null");
        var result = schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (result.IsValid) return Array.Empty<string>();
        return (result.Details ?? new List<EvaluationResults>())
            .Where(d => d.Errors != null)
            .SelectMany(d => d.Errors!.Select(e => $"at '{d.InstanceLocation}': {e.Value} ({e.Key})"))
            .DefaultIfEmpty("does not validate")
            .ToList();
    }

    /// <summary>
    /// A copy without OpenAPI's own keywords (x-createOnly, x-filterable, discriminator…), which a
    /// JSON Schema dialect refuses. The "properties" map's keys are names, not keywords: kept.
    /// </summary>
    private static JsonNode? OnlySchemaKeywords(JsonNode? node, bool names = false)
    {
        switch (node)
        {
            case JsonObject o:
                var copy = new JsonObject();
                foreach (var (name, value) in o)
                {
                    if (!names && (name.StartsWith("x-", StringComparison.Ordinal) || name is "discriminator" or "example" or "externalDocs" or "xml" or "nullable")) continue;
                    copy[name] = OnlySchemaKeywords(value, !names && name is "properties" or "$defs");
                }
                return copy;
            case JsonArray a:
                return new JsonArray(a.Select(v => OnlySchemaKeywords(v)).ToArray());
            default:
                return node?.DeepClone();
        }
    }

    /// <summary>Scalr writes an absent value as null (e.g. pagination.prev); Swagger 2.0 cannot say so.</summary>
    private static JsonNode? WithoutNulls(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                var copy = new JsonObject();
                foreach (var (name, value) in o)
                    if (value != null) copy[name] = WithoutNulls(value);
                return copy;
            case JsonArray a:
                return new JsonArray(a.Select(v => WithoutNulls(v)).ToArray());
            default:
                return node?.DeepClone();
        }
    }

    /// <summary>scalr-ctl's user-level (route, method) pairs. Its file repeats some keys, so it is walked as a document.</summary>
    private static HashSet<(string, string)> ScalrCtlRoutes(string file)
    {
        var routes = new HashSet<(string, string)>();
        void Walk(JsonElement e)
        {
            if (e.ValueKind != JsonValueKind.Object) return;
            if (e.TryGetProperty("route", out var route) && e.TryGetProperty("http-method", out var verb) &&
                e.TryGetProperty("api_level", out var level) && level.GetString() == "user")
                routes.Add((route.GetString()!, verb.GetString()!.ToLowerInvariant()));
            foreach (var child in e.EnumerateObject()) Walk(child.Value);
        }
        using var document = JsonDocument.Parse(File.ReadAllText(file));
        Walk(document.RootElement);
        return routes;
    }
}

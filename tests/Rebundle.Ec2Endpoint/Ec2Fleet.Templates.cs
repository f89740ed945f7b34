using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using static Rebundle.Ec2Endpoint.Ec2Xml;

namespace Rebundle.Ec2Endpoint;

/// <summary>Launch templates and their versions.</summary>
public sealed partial class Ec2Fleet
{
    private static readonly Regex TemplateName = new(@"^[A-Za-z0-9().\-/_]{3,128}$");


    private XElement CreateLaunchTemplate(QueryRequest r)
    {
        var token = r.Get("ClientToken");
        var earlier = token == null ? null : _templates.FirstOrDefault(t => t.ClientToken == token);
        if (earlier != null) return Response("CreateLaunchTemplate", Template("launchTemplate", earlier));

        var name = r.Require("LaunchTemplateName");
        if (!TemplateName.IsMatch(name))
            throw new Ec2Error("InvalidLaunchTemplateName.MalformedException", $"The launch template name '{name}' is malformed: use 3 to 128 letters, digits and ( ) . - / _");
        if (_templates.Any(t => t.Name == name))
            throw new Ec2Error("InvalidLaunchTemplateName.AlreadyExistsException", $"Launch template name already in use: {name}");
        var data = CheckedData(r.Under("LaunchTemplateData"));
        if (data.Count == 0)
            throw new Ec2Error("MissingParameter", "The request must contain the parameter LaunchTemplateData.");

        var template = new Ec2LaunchTemplate { Id = NewId("lt"), Name = name, CreatedAt = Now, ClientToken = token, VisibleAt = VisibleFromNow };
        template.Versions.Add(new Ec2TemplateVersion { Number = 1, CreatedAt = Now, Description = r.Get("VersionDescription"), Data = data, VisibleAt = VisibleFromNow });
        template.Tags.Set(r.TagsFor("launch-template"));
        _templates.Add(template);
        return Response("CreateLaunchTemplate", Template("launchTemplate", template));
    }

    private XElement CreateLaunchTemplateVersion(QueryRequest r)
    {
        var template = FindTemplate(r.Get("LaunchTemplateId"), r.Get("LaunchTemplateName"));
        var token = r.Get("ClientToken");
        var earlier = token == null ? null : template.Versions.FirstOrDefault(v => v.ClientToken == token);
        if (earlier != null) return Response("CreateLaunchTemplateVersion", Version("launchTemplateVersion", template, earlier));
        var overrides = CheckedData(r.Under("LaunchTemplateData"));
        var data = new Dictionary<string, string>(StringComparer.Ordinal);
        if (r.Get("SourceVersion") is { } source)
        {
            var from = template.Version(source) ?? throw new Ec2Error("InvalidLaunchTemplateId.VersionNotFound", $"Could not find launch template version {source} of {template.Name}.");
            // A list or structure named in the overrides replaces the source's whole list or structure.
            var replaced = overrides.Keys.Select(Root).ToHashSet();
            foreach (var pair in from.Data.Where(p => !replaced.Contains(Root(p.Key)))) data[pair.Key] = pair.Value;
        }
        foreach (var pair in overrides) data[pair.Key] = pair.Value;

        var version = new Ec2TemplateVersion { Number = template.LatestVersion + 1, CreatedAt = Now, Description = r.Get("VersionDescription"), Data = data, ClientToken = token, VisibleAt = VisibleFromNow };
        template.Versions.Add(version);
        return Response("CreateLaunchTemplateVersion", Version("launchTemplateVersion", template, version));
    }

    private XElement ModifyLaunchTemplate(QueryRequest r)
    {
        var template = FindTemplate(r.Get("LaunchTemplateId"), r.Get("LaunchTemplateName"));
        // The SDK sends the DefaultVersion member as "SetDefaultVersion".
        var wanted = r.Get("SetDefaultVersion") ?? r.Get("DefaultVersion");
        if (wanted != null)
        {
            var version = template.Version(wanted) ?? throw new Ec2Error("InvalidLaunchTemplateId.VersionNotFound", $"Could not find launch template version {wanted} of {template.Name}.");
            template.DefaultVersion = version.Number;
        }
        return Response("ModifyLaunchTemplate", Template("launchTemplate", template));
    }

    private XElement DeleteLaunchTemplate(QueryRequest r)
    {
        var template = FindTemplate(r.Get("LaunchTemplateId"), r.Get("LaunchTemplateName"));
        _templates.Remove(template);
        return Response("DeleteLaunchTemplate", Template("launchTemplate", template));
    }

    private XElement DescribeLaunchTemplates(QueryRequest r)
    {
        var ids = r.List("LaunchTemplateId");
        var names = r.List("LaunchTemplateName");
        if ((ids.Count > 0 || names.Count > 0) && r.Get("MaxResults") != null)
            throw new Ec2Error("InvalidParameterCombination", "MaxResults cannot be used with launch template IDs or names.");
        var visible = _templates.Where(t => Seen(t.VisibleAt)).ToList();
        foreach (var id in ids.Where(id => visible.All(t => t.Id != id)))
            throw new Ec2Error("InvalidLaunchTemplateId.NotFound", $"At least one of the launch templates specified in the request does not exist: {id}");
        foreach (var name in names.Where(n => visible.All(t => t.Name != n)))
            throw new Ec2Error("InvalidLaunchTemplateName.NotFoundException", $"At least one of the launch templates specified in the request does not exist: {name}");

        var filters = r.Filters();
        var matching = visible
            .Where(t => (ids.Count == 0 && names.Count == 0) || ids.Contains(t.Id) || names.Contains(t.Name))
            .Where(t => Passes(filters, name => name switch
            {
                "launch-template-name" => new[] { t.Name },
                _ => TagValues(name, t.Tags),
            }, "launch templates"))
            .ToList();
        var (page, next) = Page(matching, r, 1, 200);
        return Response("DescribeLaunchTemplates", Items("launchTemplates", page.Select(t => (object?)Template("item", t))), Leaf("nextToken", next));
    }

    private XElement DescribeLaunchTemplateVersions(QueryRequest r)
    {
        // The SDK sends the Versions member as "LaunchTemplateVersion.N".
        var selectors = r.List("LaunchTemplateVersion");
        var id = r.Get("LaunchTemplateId");
        var name = r.Get("LaunchTemplateName");
        IEnumerable<Ec2LaunchTemplate> templates;
        if (id == null && name == null)
        {
            // Without a template EC2 answers $Latest / $Default of every template in the account.
            if (selectors.Count == 0 || selectors.Any(s => s != "$Latest" && s != "$Default"))
                throw new Ec2Error("MissingParameter", "Without a launch template id or name, only the versions $Latest and $Default may be asked for.");
            templates = _templates.Where(t => Seen(t.VisibleAt));
        }
        else
        {
            templates = new[] { FindTemplate(id, name, visibleOnly: true) };
        }

        long? min = r.Get("MinVersion") is { } minText ? long.Parse(minText) : null;
        long? max = r.Get("MaxVersion") is { } maxText ? long.Parse(maxText) : null;
        var filters = r.Filters();
        var matching = new List<(Ec2LaunchTemplate Template, Ec2TemplateVersion Version)>();
        foreach (var template in templates)
        {
            var versions = selectors.Count == 0
                ? template.Versions.Where(v => Seen(v.VisibleAt) && (min == null || v.Number >= min) && (max == null || v.Number <= max))
                : selectors.Select(s => VisibleVersion(template, s) ?? throw new Ec2Error("InvalidLaunchTemplateId.VersionNotFound", $"Could not find launch template version {s} of {template.Name}.")).Distinct();
            matching.AddRange(versions
                .Where(v => Passes(filters, f => f switch
                {
                    "is-default-version" => new[] { v.Number == template.DefaultVersion ? "true" : "false" },
                    "image-id" => v.Data.TryGetValue("ImageId", out var image) ? new[] { image } : Array.Empty<string>(),
                    _ => null,
                }, "launch template versions"))
                .Select(v => (template, v)));
        }
        var (page, next) = Page(matching, r, 1, 200);
        return Response("DescribeLaunchTemplateVersions",
            Items("launchTemplateVersionSet", page.Select(p => (object?)Version("item", p.Template, p.Version))), Leaf("nextToken", next));
    }

    /// <summary>
    /// A version as Describe* sees it: a new version is not seen yet (nor counted as $Latest);
    /// $Default is the version ModifyLaunchTemplate last named.
    /// </summary>
    private Ec2TemplateVersion? VisibleVersion(Ec2LaunchTemplate template, string selector)
    {
        if (selector == "$Default") return template.Version(selector);
        var seen = template.Versions.Where(v => Seen(v.VisibleAt)).ToList();
        if (selector == "$Latest") return seen.OrderByDescending(v => v.Number).FirstOrDefault();
        return long.TryParse(selector, out var number) ? seen.FirstOrDefault(v => v.Number == number) : null;
    }

    private Ec2LaunchTemplate FindTemplate(string? id, string? name, bool visibleOnly = false)
    {
        var templates = visibleOnly ? _templates.Where(t => Seen(t.VisibleAt)) : _templates;
        if (id != null)
            return templates.FirstOrDefault(t => t.Id == id)
                   ?? throw new Ec2Error("InvalidLaunchTemplateId.NotFound", $"The specified launch template, with template ID {id}, does not exist.");
        if (name != null)
            return templates.FirstOrDefault(t => t.Name == name)
                   ?? throw new Ec2Error("InvalidLaunchTemplateName.NotFoundException", $"The specified launch template, with template name {name}, does not exist.");
        throw new Ec2Error("MissingParameter", "The request must contain LaunchTemplateId or LaunchTemplateName.");
    }

    private IReadOnlyDictionary<string, string> CheckedData(IReadOnlyDictionary<string, string> data)
    {
        foreach (var key in data.Keys.Where(k => !LaunchDataShape.Accepts(k)))
            throw new Ec2Error("InvalidParameterValue", $"LaunchTemplateData.{key} is not modelled by the test endpoint.");
        if (data.TryGetValue("ImageId", out var imageId) && _images.All(i => i.Id != imageId))
            throw new Ec2Error("InvalidAMIID.NotFound", $"The image id '[{imageId}]' does not exist");
        return data;
    }

    private static string Root(string key)
    {
        var dot = key.IndexOf('.');
        return dot < 0 ? key : key.Substring(0, dot);
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Rebundle.Ec2Endpoint;

/// <summary>
/// The SSM actions, as strict as the service: its validation (ValidationException "1 validation
/// error detected: …", InvalidParameters, InvalidInstanceId, InvalidDocument, InvocationDoesNotExist,
/// InvalidCommandId, InvalidNextToken, InvalidFilterKey …), its limits (InstanceIds 1–50,
/// MaxResults ranges, TimeoutSeconds 30–2592000, Comment 100) and its shapes (timestamps as epoch
/// seconds, GetCommandInvocation's Execution*DateTime as ISO strings, "" for what is not there).
/// Errors are HTTP 400 JSON <c>{"__type": code, "message": …}</c> (the AWS SDK's JSON error
/// unmarshaller reads __type and message), AccessDeniedException 403.
/// </summary>
public sealed partial class SsmFleet
{
    private static readonly Regex InstanceIdPattern = new(@"(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)");
    private static readonly Regex ExecutionTimeoutPattern = new(@"^(([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800))$");
    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The actions modelled, for the log's IsMutating and for tests.</summary>
    public static readonly IReadOnlyList<string> Actions = new[] { "DescribeInstanceInformation", "SendCommand", "GetCommandInvocation", "ListCommandInvocations", "CancelCommand" };

    /// <summary>Answers one SSM request (action from X-Amz-Target): status and JSON body. Logs it under service "ssm".</summary>
    internal (int Status, string Body) Handle(string action, SignedRequest signed)
    {
        lock (_ec2.Gate)
        {
            _ec2.AutoScaling.Reconcile();
            Reconcile();
            var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
            int status;
            string body;
            string? errorCode = null;
            try
            {
                VerifySignature(signed);
                var input = ParseBody(signed.Body);
                foreach (var (key, value) in input) parameters[key] = value is JsonValue v && v.TryGetValue<string>(out var text) ? text : value?.ToJsonString() ?? "null";
                if (_ec2.TakeThrottle(action)) throw new Ec2Error("ThrottlingException", "Rate exceeded", 400);
                if (Faults.DeniedActions.Contains(action) || Faults.DeniedActions.Contains("ssm:" + action))
                    throw new Ec2Error("AccessDeniedException", $"User: arn:aws:iam::{Ec2Xml.OwnerId}:user/ttm-test is not authorized to perform: ssm:{action} on resource: arn:aws:ssm:{Region}:{Ec2Xml.OwnerId}:* because no identity-based policy allows the ssm:{action} action (denied by the test endpoint)", 403);
                var response = Dispatch(action, input);
                _ec2.RunHookAfter(action);
                try { _ec2.LoseResponseOf(action); }
                catch (Ec2Error lost) { throw new Ec2Error("InternalServerError", lost.Message, 500); }
                status = 200;
                body = response.ToJsonString(JsonOptions);
            }
            catch (Ec2Error e)
            {
                status = e.Status;
                errorCode = e.Code;
                var error = new JsonObject { ["__type"] = e.Code };
                if (e.Message.Length > 0) error["message"] = e.Message;
                body = error.ToJsonString(JsonOptions);
            }
            _ec2.LogService(action, parameters, status, errorCode, signed, SigningName);
            return (status, body);
        }
    }

    /// <summary>SigV4 for scope ssm; its failures in the JSON services' words.</summary>
    private void VerifySignature(SignedRequest signed)
    {
        try
        {
            SigV4Check.Verify(signed, _ec2.Settings, SigningName);
        }
        catch (Ec2Error e)
        {
            throw e.Code switch
            {
                "AuthFailure" => new Ec2Error("UnrecognizedClientException", "The security token included in the request is invalid.", 400),
                "RequestExpired" => new Ec2Error("InvalidSignatureException", "Signature expired: " + e.Message, 400),
                _ => new Ec2Error("InvalidSignatureException", e.Message, 400),
            };
        }
    }

    private static JsonObject ParseBody(byte[] body)
    {
        if (body.Length == 0) return new JsonObject();
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw new Ec2Error("SerializationException", "The request body is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new Ec2Error("SerializationException", "The request body is not valid JSON: " + e.Message);
        }
    }

    private JsonObject Dispatch(string action, JsonObject input) => action switch
    {
        "DescribeInstanceInformation" => DescribeInstanceInformation(input),
        "SendCommand" => SendCommand(input),
        "GetCommandInvocation" => GetCommandInvocation(input),
        "ListCommandInvocations" => ListCommandInvocations(input),
        "CancelCommand" => CancelCommand(input),
        _ => throw new Ec2Error("UnknownOperationException", $"The action AmazonSSM.{action} is not valid (or not modelled by the test endpoint)."),
    };

    // ---- DescribeInstanceInformation ------------------------------------------------------------

    private JsonObject DescribeInstanceInformation(JsonObject input)
    {
        var max = Int(input, "MaxResults", 5, 50) ?? 10;
        var tests = new List<Func<SsmManagedInstance, bool>>();
        if (input["InstanceInformationFilterList"] is JsonArray oldFilters)
        {
            foreach (var f in oldFilters.OfType<JsonObject>())
            {
                var key = Text(f, "key") ?? throw Validation("Value null at 'instanceInformationFilterList.member.key' failed to satisfy constraint: Member must not be null");
                if (key is not ("InstanceIds" or "AgentVersion" or "PingStatus" or "PlatformTypes" or "ActivationIds" or "IamRole" or "ResourceType" or "AssociationStatus"))
                    throw Validation($"Value '{key}' at 'instanceInformationFilterList.member.key' failed to satisfy constraint: Member must satisfy enum value set: [ActivationIds, AgentVersion, PingStatus, PlatformTypes, IamRole, InstanceIds, ResourceType, AssociationStatus]");
                tests.Add(FilterTest(key, Values(f, "valueSet")));
            }
        }
        if (input["Filters"] is JsonArray filters)
        {
            foreach (var f in filters.OfType<JsonObject>())
            {
                var key = Text(f, "Key") ?? throw Validation("Value null at 'filters.member.key' failed to satisfy constraint: Member must not be null");
                tests.Add(FilterTest(key, Values(f, "Values")));
            }
        }
        var all = _instances.Where(i => tests.All(t => t(i))).ToList();
        var (page, next) = Page(all, input, max);
        var list = new JsonArray();
        foreach (var i in page) list.Add(InstanceJson(i));
        var answer = new JsonObject { ["InstanceInformationList"] = list };
        if (next != null) answer["NextToken"] = next;
        return answer;
    }

    private Func<SsmManagedInstance, bool> FilterTest(string key, IReadOnlyList<string> values)
    {
        if (values.Count is < 1 or > 100)
            throw Validation($"Value '[{string.Join(", ", values)}]' at 'filters.member.values' failed to satisfy constraint: Member must have length between 1 and 100");
        switch (key)
        {
            case "InstanceIds":
                return i => values.Contains(i.InstanceId);
            case "PingStatus":
                if (values.Any(v => v is not ("Online" or "ConnectionLost" or "Inactive")))
                    throw new Ec2Error("InvalidInstanceInformationFilterValue", $"The PingStatus filter values [{string.Join(", ", values)}] are not valid: Online, ConnectionLost or Inactive.");
                return i => values.Contains(PingStatus(i));
            case "PlatformTypes":
                if (values.Any(v => v is not ("Windows" or "Linux" or "MacOS")))
                    throw new Ec2Error("InvalidInstanceInformationFilterValue", $"The PlatformTypes filter values [{string.Join(", ", values)}] are not valid: Windows, Linux or MacOS.");
                return _ => values.Contains("Linux");
            case "AgentVersion":
                return i => values.Contains(i.AgentVersion);
            case "ResourceType":
                return _ => values.Contains("EC2Instance");
            case "AssociationStatus":
            case "IamRole":
            case "ActivationIds":
                // No associations, instance profiles or activations are modelled: nothing matches.
                return _ => false;
            case "tag-key":
                return i => _ec2.InstanceById(i.InstanceId) is { } ec2 && ec2.Tags.All.Any(t => values.Contains(t.Key));
            default:
                if (key.StartsWith("tag:", StringComparison.Ordinal))
                    return i => _ec2.InstanceById(i.InstanceId)?.Tags[key.Substring(4)] is { } value && values.Contains(value);
                throw new Ec2Error("InvalidFilterKey", $"The filter key {key} is not valid for DescribeInstanceInformation.");
        }
    }

    private JsonObject InstanceJson(SsmManagedInstance i)
    {
        var ec2 = _ec2.InstanceById(i.InstanceId);
        var ip = ec2?.PrivateIp ?? "";
        return new JsonObject
        {
            ["InstanceId"] = i.InstanceId,
            ["PingStatus"] = PingStatus(i),
            ["LastPingDateTime"] = Epoch(i.LastPing),
            ["AgentVersion"] = i.AgentVersion,
            ["IsLatestVersion"] = false,
            ["PlatformType"] = "Linux",
            ["PlatformName"] = i.PlatformName,
            ["PlatformVersion"] = i.PlatformVersion,
            ["ResourceType"] = "EC2Instance",
            ["IPAddress"] = ip,
            ["ComputerName"] = "ip-" + ip.Replace('.', '-') + "." + (Region == "us-east-1" ? "ec2.internal" : Region + ".compute.internal"),
            ["SourceId"] = i.InstanceId,
            ["SourceType"] = "AWS::EC2::Instance",
        };
    }

    // ---- SendCommand ----------------------------------------------------------------------------

    private JsonObject SendCommand(JsonObject input)
    {
        var now = Now;
        var document = Text(input, "DocumentName") ?? throw Validation("Value null at 'documentName' failed to satisfy constraint: Member must not be null");
        if (document != RunShellScript)
            throw new Ec2Error("InvalidDocument", $"Document with name {document} does not exist (the test endpoint models {RunShellScript} only).");
        if (Text(input, "DocumentVersion") is { } version && version is not ("$DEFAULT" or "$LATEST" or "1"))
            throw new Ec2Error("InvalidDocumentVersion", $"The document version {version} is not valid for {RunShellScript} (it has version 1).");
        if (input["Targets"] is JsonArray { Count: > 0 })
            throw Validation("Targets are not modelled by the test endpoint: send InstanceIds.");
        var ids = Values(input, "InstanceIds").Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0) throw Validation("Value null at 'instanceIds' failed to satisfy constraint: Member must not be null (give InstanceIds or Targets)");
        if (ids.Count > 50)
            throw Validation($"Value '[{string.Join(", ", ids)}]' at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 50");
        foreach (var id in ids.Where(id => !InstanceIdPattern.IsMatch(id)))
            throw Validation($"Value '[{id}]' at 'instanceIds' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy regular expression pattern: (^i-(\\w{{8}}|\\w{{17}})$)|(^mi-\\w{{17}}$)]");
        var notValid = ids.Where(id => Managed(id) is not { } m || m.AgentOverride == "Inactive" || InstanceGone(id)).ToList();
        if (notValid.Count > 0)
            throw new Ec2Error("InvalidInstanceId", $"Instances [[{string.Join(", ", notValid)}]] not in a valid state for account {Ec2Xml.OwnerId}");

        var timeoutSeconds = Int(input, "TimeoutSeconds", 30, 2592000) ?? 3600;
        var comment = Text(input, "Comment") ?? "";
        if (comment.Length > 100) throw Validation($"Value '{comment}' at 'comment' failed to satisfy constraint: Member must have length less than or equal to 100");
        var bucket = Text(input, "OutputS3BucketName");
        if (bucket is { Length: 0 }) bucket = null;
        if (bucket is { Length: < 3 or > 63 }) throw Validation($"Value '{bucket}' at 'outputS3BucketName' failed to satisfy constraint: Member must have length between 3 and 63");
        var prefix = Text(input, "OutputS3KeyPrefix");
        if (prefix is { Length: 0 }) prefix = null;
        if (prefix is { Length: > 500 }) throw Validation("Value at 'outputS3KeyPrefix' failed to satisfy constraint: Member must have length less than or equal to 500");

        var parameters = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (input["Parameters"] is JsonObject given)
            foreach (var (name, value) in given) parameters[name] = value is JsonArray list ? list.Select(v => v?.GetValue<string>() ?? "").ToList() : throw new Ec2Error("SerializationException", $"Parameters.{name} must be a list of strings.");
        foreach (var name in parameters.Keys.Where(n => n is not ("commands" or "executionTimeout" or "workingDirectory")))
            throw new Ec2Error("InvalidParameters", $"Parameter \"{name}\" is not a parameter of {RunShellScript} (commands, workingDirectory, executionTimeout).");
        if (!parameters.TryGetValue("commands", out var commands) || commands.Count == 0)
            throw new Ec2Error("InvalidParameters", $"{RunShellScript} requires the parameter \"commands\".");
        if (parameters.TryGetValue("workingDirectory", out var workingDirectory) && workingDirectory.Any(w => w.Length > 0))
            throw new Ec2Error("InvalidParameters", "The workingDirectory parameter is not modelled by the test endpoint: the commands run in the instance's working directory.");
        var executionTimeout = 3600;
        if (parameters.TryGetValue("executionTimeout", out var timeoutValues))
        {
            if (timeoutValues.Count != 1 || !ExecutionTimeoutPattern.IsMatch(timeoutValues[0]))
                throw new Ec2Error("InvalidParameters", $"Parameter \"executionTimeout\" \"{string.Join(",", timeoutValues)}\" does not match the allowed pattern: seconds from 1 to 172800.");
            executionTimeout = int.Parse(timeoutValues[0], CultureInfo.InvariantCulture);
        }
        var size = parameters.Sum(p => Encoding.UTF8.GetByteCount(p.Key) + p.Value.Sum(Encoding.UTF8.GetByteCount));
        if (size > MaxParametersSize)
            throw new Ec2Error("InvalidParameters", $"The parameters take {size} bytes; the most SendCommand accepts is {MaxParametersSize} (the test endpoint's limit). Put a large script on the instance another way.");

        var command = new SsmCommand
        {
            CommandId = Guid.NewGuid().ToString(), DocumentName = document, Comment = comment, InstanceIds = ids, Parameters = parameters, Commands = commands,
            ExecutionTimeout = TimeSpan.FromSeconds(executionTimeout), TimeoutSeconds = timeoutSeconds, RequestedAt = now,
            OutputS3BucketName = bucket, OutputS3KeyPrefix = prefix,
        };
        _commands.Add(command);
        var visibleAt = now + (Faults.InvocationDoesNotExistFor ?? NotYetVisibleFor);
        foreach (var id in ids) _invocations.Add(new SsmInvocation { Command = command, InstanceId = id, VisibleAt = visibleAt });
        Reconcile(); // agents online start at once
        return new JsonObject { ["Command"] = CommandJson(command, input) };
    }

    private JsonObject CommandJson(SsmCommand command, JsonObject input)
    {
        var invocations = _invocations.Where(i => i.Command == command).ToList();
        var parameters = new JsonObject();
        foreach (var (name, values) in command.Parameters) parameters[name] = new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
        return new JsonObject
        {
            ["CommandId"] = command.CommandId,
            ["DocumentName"] = command.DocumentName,
            ["DocumentVersion"] = "$DEFAULT",
            ["Comment"] = command.Comment,
            ["ExpiresAfter"] = Epoch(command.ExpiresAfter),
            ["Parameters"] = parameters,
            ["InstanceIds"] = new JsonArray(command.InstanceIds.Select(id => (JsonNode?)JsonValue.Create(id)).ToArray()),
            ["Targets"] = new JsonArray(),
            ["RequestedDateTime"] = Epoch(command.RequestedAt),
            ["Status"] = "Pending",
            ["StatusDetails"] = "Pending",
            ["OutputS3Region"] = Region,
            ["OutputS3BucketName"] = command.OutputS3BucketName ?? "",
            ["OutputS3KeyPrefix"] = command.OutputS3KeyPrefix ?? "",
            ["MaxConcurrency"] = Text(input, "MaxConcurrency") ?? "50",
            ["MaxErrors"] = Text(input, "MaxErrors") ?? "0",
            ["TargetCount"] = invocations.Count,
            ["CompletedCount"] = 0,
            ["ErrorCount"] = 0,
            ["DeliveryTimedOutCount"] = 0,
            ["ServiceRole"] = "",
            ["NotificationConfig"] = new JsonObject { ["NotificationArn"] = "", ["NotificationEvents"] = new JsonArray(), ["NotificationType"] = "" },
            ["CloudWatchOutputConfig"] = new JsonObject { ["CloudWatchLogGroupName"] = "", ["CloudWatchOutputEnabled"] = false },
            ["TimeoutSeconds"] = command.TimeoutSeconds,
        };
    }

    // ---- GetCommandInvocation -------------------------------------------------------------------

    private JsonObject GetCommandInvocation(JsonObject input)
    {
        var commandId = CommandIdOf(input, required: true)!;
        var instanceId = Text(input, "InstanceId") ?? throw Validation("Value null at 'instanceId' failed to satisfy constraint: Member must not be null");
        if (!InstanceIdPattern.IsMatch(instanceId))
            throw Validation($"Value '{instanceId}' at 'instanceId' failed to satisfy constraint: Member must satisfy regular expression pattern: (^i-(\\w{{8}}|\\w{{17}})$)|(^mi-\\w{{17}}$)");
        var invocation = _invocations.FirstOrDefault(i => i.Command.CommandId == commandId && i.InstanceId == instanceId);
        // Right after SendCommand SSM does not know the invocation yet, and says so without a message.
        if (invocation == null || Now < invocation.VisibleAt) throw new Ec2Error("InvocationDoesNotExist", "");
        if (Text(input, "PluginName") is { Length: > 0 } plugin && plugin != PluginName)
            throw new Ec2Error("InvalidPluginName", $"The plugin name {plugin} is not valid: {RunShellScript} has one step, {PluginName}.");
        var done = invocation.Terminal;
        return new JsonObject
        {
            ["CommandId"] = commandId,
            ["InstanceId"] = instanceId,
            ["Comment"] = invocation.Command.Comment,
            ["DocumentName"] = invocation.Command.DocumentName,
            ["DocumentVersion"] = "$DEFAULT",
            ["PluginName"] = PluginName,
            ["ResponseCode"] = invocation.ResponseCode,
            ["ExecutionStartDateTime"] = IsoTime(invocation.StartedAt),
            ["ExecutionElapsedTime"] = invocation.StartedAt is { } s && invocation.EndedAt is { } e && done ? Elapsed(e - s) : "",
            ["ExecutionEndDateTime"] = done ? IsoTime(invocation.EndedAt) : "",
            ["Status"] = invocation.Status,
            ["StatusDetails"] = invocation.StatusDetails,
            ["StandardOutputContent"] = done ? Cut(invocation.Stdout.ToString(), StandardOutputLimit) : "",
            ["StandardOutputUrl"] = OutputUrl(invocation, "stdout"),
            ["StandardErrorContent"] = done ? Cut(invocation.Stderr.ToString(), StandardOutputLimit) : "",
            ["StandardErrorUrl"] = OutputUrl(invocation, "stderr"),
            ["CloudWatchOutputConfig"] = new JsonObject { ["CloudWatchLogGroupName"] = "", ["CloudWatchOutputEnabled"] = false },
        };
    }

    // ---- ListCommandInvocations -----------------------------------------------------------------

    private JsonObject ListCommandInvocations(JsonObject input)
    {
        var commandId = CommandIdOf(input, required: false);
        var instanceId = Text(input, "InstanceId");
        var max = Int(input, "MaxResults", 1, 50) ?? 50;
        var details = input["Details"] is JsonValue d && d.TryGetValue<bool>(out var yes) && yes;
        if (input["Filters"] is JsonArray { Count: > 0 }) throw Validation("Filters of ListCommandInvocations are not modelled by the test endpoint.");
        if (commandId != null && _commands.All(c => c.CommandId != commandId)) throw new Ec2Error("InvalidCommandId", "");
        var now = Now;
        var all = _invocations
            .Where(i => now >= i.VisibleAt && (commandId == null || i.Command.CommandId == commandId) && (instanceId == null || i.InstanceId == instanceId))
            .OrderByDescending(i => i.Command.RequestedAt).ThenBy(i => _invocations.IndexOf(i))
            .ToList();
        var (page, next) = Page(all, input, max);
        var list = new JsonArray();
        foreach (var i in page) list.Add(InvocationJson(i, details));
        var answer = new JsonObject { ["CommandInvocations"] = list };
        if (next != null) answer["NextToken"] = next;
        return answer;
    }

    private JsonObject InvocationJson(SsmInvocation i, bool details)
    {
        var plugins = new JsonArray();
        if (details)
        {
            var plugin = new JsonObject
            {
                ["Name"] = PluginName,
                ["Status"] = i.Status,
                ["StatusDetails"] = i.StatusDetails,
                ["ResponseCode"] = i.ResponseCode,
                ["Output"] = i.Terminal ? TruncateOutput(i.Stdout.ToString(), i.Stderr.ToString(), PluginOutputLimit) : "",
                ["StandardOutputUrl"] = OutputUrl(i, "stdout"),
                ["StandardErrorUrl"] = OutputUrl(i, "stderr"),
                ["OutputS3Region"] = Region,
                ["OutputS3BucketName"] = i.Command.OutputS3BucketName ?? "",
                ["OutputS3KeyPrefix"] = i.Command.OutputS3KeyPrefix ?? "",
            };
            if (i.StartedAt is { } started) plugin["ResponseStartDateTime"] = Epoch(started);
            if (i.Terminal && i.EndedAt is { } ended) plugin["ResponseFinishDateTime"] = Epoch(ended);
            plugins.Add(plugin);
        }
        return new JsonObject
        {
            ["CommandId"] = i.Command.CommandId,
            ["InstanceId"] = i.InstanceId,
            ["InstanceName"] = "",
            ["Comment"] = i.Command.Comment,
            ["DocumentName"] = i.Command.DocumentName,
            ["DocumentVersion"] = "$DEFAULT",
            ["RequestedDateTime"] = Epoch(i.Command.RequestedAt),
            ["Status"] = i.Status,
            ["StatusDetails"] = i.StatusDetails,
            ["TraceOutput"] = "",
            ["StandardOutputUrl"] = OutputUrl(i, "stdout"),
            ["StandardErrorUrl"] = OutputUrl(i, "stderr"),
            ["CommandPlugins"] = plugins,
            ["ServiceRole"] = "",
            ["NotificationConfig"] = new JsonObject { ["NotificationArn"] = "", ["NotificationEvents"] = new JsonArray(), ["NotificationType"] = "" },
            ["CloudWatchOutputConfig"] = new JsonObject { ["CloudWatchLogGroupName"] = "", ["CloudWatchOutputEnabled"] = false },
        };
    }

    /// <summary>
    /// The agent's cut of one plugin's output (contracts.TruncateOutput): stdout, then
    /// "\n----------ERROR-------\n" and stderr, within <paramref name="capacity"/> characters, each
    /// part cut with its "\n---Output truncated---" / "\n---Error truncated----" mark.
    /// </summary>
    public static string TruncateOutput(string stdout, string stderr, int capacity)
    {
        const string truncOut = "\n---Output truncated---";
        const string truncError = "\n---Error truncated----";
        var errorTitle = stderr.Length > 0 ? "\n----------ERROR-------\n" : "";
        var available = capacity - errorTitle.Length;
        if (stdout.Length + stderr.Length < available) return stdout + errorTitle + stderr;
        if (stdout.Length > available / 2 && stderr.Length > available / 2)
        {
            var size = available - truncError.Length - truncOut.Length;
            return stdout.Substring(0, size / 2) + truncOut + errorTitle + stderr.Substring(0, size / 2) + truncError;
        }
        if (stdout.Length < available / 2)
        {
            var size = available - truncError.Length;
            return stdout + errorTitle + stderr.Substring(0, size - stdout.Length) + truncError;
        }
        var outSize = Math.Clamp(available - truncOut.Length - stderr.Length, 0, stdout.Length);
        return stdout.Substring(0, outSize) + truncOut + errorTitle + stderr;
    }

    // ---- CancelCommand --------------------------------------------------------------------------

    private JsonObject CancelCommand(JsonObject input)
    {
        var commandId = CommandIdOf(input, required: true)!;
        var command = _commands.FirstOrDefault(c => c.CommandId == commandId) ?? throw new Ec2Error("InvalidCommandId", "");
        var ids = Values(input, "InstanceIds");
        if (ids.Count > 50) throw Validation($"Value '[{string.Join(", ", ids)}]' at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 50");
        var notTargeted = ids.Where(id => !command.InstanceIds.Contains(id)).ToList();
        if (notTargeted.Count > 0) throw new Ec2Error("InvalidInstanceId", $"Instances [[{string.Join(", ", notTargeted)}]] are not targets of command {commandId}.");
        var now = Now;
        foreach (var invocation in _invocations.Where(i => i.Command == command && (ids.Count == 0 || ids.Contains(i.InstanceId))).ToList()) Cancel(invocation, now);
        return new JsonObject();
    }

    // ---- Shapes and checks ------------------------------------------------------------------------

    private static Ec2Error Validation(string what) => new("ValidationException", "1 validation error detected: " + what);

    private static string? Text(JsonObject o, string name) =>
        o[name] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            _ => throw new Ec2Error("SerializationException", $"{name} must be a string."),
        };

    private static IReadOnlyList<string> Values(JsonObject o, string name) =>
        o[name] switch
        {
            null => Array.Empty<string>(),
            JsonArray a => a.Select(v => v is JsonValue s && s.TryGetValue<string>(out var text) ? text : throw new Ec2Error("SerializationException", $"{name} must be a list of strings.")).ToList(),
            _ => throw new Ec2Error("SerializationException", $"{name} must be a list of strings."),
        };

    private static int? Int(JsonObject o, string name, int min, int max)
    {
        if (o[name] is not JsonValue v) return null;
        if (!v.TryGetValue<int>(out var value))
        {
            if (v.TryGetValue<double>(out var d) && d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue) value = (int)d;
            else throw new Ec2Error("SerializationException", $"{name} must be an integer.");
        }
        var field = char.ToLowerInvariant(name[0]) + name.Substring(1);
        if (value < min) throw Validation($"Value '{value}' at '{field}' failed to satisfy constraint: Member must have value greater than or equal to {min}");
        if (value > max) throw Validation($"Value '{value}' at '{field}' failed to satisfy constraint: Member must have value less than or equal to {max}");
        return value;
    }

    private static string? CommandIdOf(JsonObject input, bool required)
    {
        var id = Text(input, "CommandId");
        if (id == null)
            return required ? throw Validation("Value null at 'commandId' failed to satisfy constraint: Member must not be null") : null;
        if (id.Length != 36) throw Validation($"Value '{id}' at 'commandId' failed to satisfy constraint: Member must have length less than or equal to 36 and greater than or equal to 36");
        return id;
    }

    /// <summary>One page by MaxResults and NextToken (opaque; a wrong one is InvalidNextToken).</summary>
    private static (List<T> Page, string? Next) Page<T>(IReadOnlyList<T> all, JsonObject input, int size)
    {
        var start = 0;
        if (Text(input, "NextToken") is { Length: > 0 } token)
        {
            string? text = null;
            try { text = Encoding.UTF8.GetString(Convert.FromBase64String(token)); }
            catch (FormatException) { }
            if (text == null || !text.StartsWith("ttm-ssm:", StringComparison.Ordinal) || !int.TryParse(text.AsSpan(8), NumberStyles.None, CultureInfo.InvariantCulture, out start) || start > all.Count)
                throw new Ec2Error("InvalidNextToken", "The specified token isn't valid.");
        }
        var page = all.Skip(start).Take(size).ToList();
        var next = start + page.Count < all.Count ? Convert.ToBase64String(Encoding.UTF8.GetBytes("ttm-ssm:" + (start + page.Count))) : null;
        return (page, next);
    }

    /// <summary>A timestamp as the JSON protocol sends it: epoch seconds with milliseconds.</summary>
    private static double Epoch(DateTimeOffset at) => at.ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>GetCommandInvocation's Execution*DateTime: an ISO 8601 string ("" when not there).</summary>
    private static string IsoTime(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) ?? "";

    /// <summary>ExecutionElapsedTime as SSM writes it: PT0.035S.</summary>
    private static string Elapsed(TimeSpan span) => "PT" + Math.Max(0, span.TotalSeconds).ToString("0.###", CultureInfo.InvariantCulture) + "S";

    private static string Cut(string text, int limit) => text.Length <= limit ? text : text.Substring(0, limit);
}

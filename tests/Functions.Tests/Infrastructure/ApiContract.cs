using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Tests.Infrastructure;

/// <summary>
/// Checks a response of the app against the committed OpenAPI document: the path and method are an operation, the
/// status is one of its responses, the content type one that response declares, and a JSON body is valid against
/// the declared schema. The schema check covers the JSON Schema subset the document uses (type, enum, required,
/// properties, additionalProperties, items, allOf, oneOf, $ref, string/number/array bounds, pattern, date-time).
/// A path or method outside the document matches no function: only the host's bare 404 may answer it.
/// </summary>
public sealed partial class ApiContract
{
    public static ApiContract Document { get; } = new(ApiDocumentFunctions.Load());

    /// <summary>
    /// A client for an app running as a process of its own (crash, workflow and <c>run.sh</c> tests, and their
    /// <c>/healthz</c> polls), whose responses are held to the contract like <see cref="TestApp"/>'s: a violation throws
    /// in the test that caused it, and disposing the client throws again with every violation it saw, so a test that
    /// swallowed the first (a retry loop, a poll) still fails.
    /// </summary>
    public static HttpClient Client(Uri baseAddress, TimeSpan? timeout = null) => ContractClient.Create(baseAddress, timeout ?? TimeSpan.FromSeconds(100));

    private readonly JsonObject _document;
    private readonly List<(Regex Path, string Template, JsonObject Item)> _paths;

    public ApiContract(JsonObject document)
    {
        _document = document;
        _paths = [.. document["paths"]!.AsObject()
            .Select(p => (new Regex("^" + Regex.Replace(Regex.Escape(p.Key), @"\\\{[^}]+\}", "[^/]+") + "$", RegexOptions.CultureInvariant), p.Key, p.Value!.AsObject()))
            // Literal paths before templated ones: /v1/webhook-deliveries/recover is not /v1/webhook-deliveries/{id}.
            .OrderBy(p => p.Key.Count(c => c == '{'))];
    }

    /// <summary>What is wrong with the response to <paramref name="method"/> <paramref name="path"/>; empty when it is on contract.</summary>
    public IReadOnlyList<string> Check(string method, string path, int status, string? contentType, string body)
    {
        var mediaType = contentType is null ? null : MediaTypeHeaderValue.TryParse(contentType, out var parsed) ? parsed.MediaType : contentType;
        var match = _paths.FirstOrDefault(p => p.Path.IsMatch(path));
        var operation = match.Item?[method.ToLowerInvariant()]?.AsObject();
        if (operation is null)
        {
            // No function has this path and method: the host's own answer, a 404 without a body (in both hosts).
            return status == 404 && body.Length == 0 ? []
                : [$"{method} {path} is not an operation of the document, and it answered {status} {mediaType}: {Excerpt(body)}"];
        }
        var name = $"{method} {match.Template} ({operation["operationId"]})";
        var responses = operation["responses"]!.AsObject();
        var response = responses[status.ToString(CultureInfo.InvariantCulture)] ?? responses[$"{status / 100}XX"] ?? responses["default"];
        if (response is null)
        {
            return [$"{name} answered {status}, which the document does not declare (declared: {string.Join(", ", responses.Select(r => r.Key))}). Body: {Excerpt(body)}"];
        }
        response = Resolve(response);
        var content = response["content"]?.AsObject();
        if (content is null || content.Count == 0)
        {
            return body.Length == 0 ? [] : [$"{name} {status} declares no body, but the response has {mediaType}: {Excerpt(body)}"];
        }
        if (mediaType is null)
        {
            return body.Length == 0 ? [] : [$"{name} {status} answered a body without a content type."];
        }
        if (content[mediaType] is not JsonObject media)
        {
            return [$"{name} {status} answered {mediaType}, which the document does not declare (declared: {string.Join(", ", content.Select(c => c.Key))})."];
        }
        if (!IsJson(mediaType) || media["schema"] is not JsonNode schema)
        {
            return [];
        }
        JsonNode? value;
        try
        {
            value = JsonNode.Parse(body);
        }
        catch (JsonException ex)
        {
            return [$"{name} {status} answered {mediaType} that is not JSON ({ex.Message}): {Excerpt(body)}"];
        }
        var errors = new List<string>();
        Validate(value, schema, "$", errors);
        return [.. errors.Select(e => $"{name} {status} {mediaType}: {e}. Body: {Excerpt(body)}")];
    }

    private List<string> CheckProblem(string body, string? mediaType)
    {
        if (mediaType is null)
        {
            return [];
        }
        var errors = new List<string>();
        Validate(JsonNode.Parse(body), JsonNode.Parse("""{"$ref":"#/components/schemas/Problem"}""")!, "$", errors);
        return errors;
    }

    private static bool IsJson(string mediaType) => mediaType == "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal);

    private static string Excerpt(string body) => body.Length <= 600 ? body : body[..600] + "…";

    private JsonObject Resolve(JsonNode node)
    {
        while (node is JsonObject o && o["$ref"] is JsonValue reference)
        {
            node = Pointer(reference.GetValue<string>());
        }
        return node.AsObject();
    }

    private JsonNode Pointer(string reference)
    {
        if (!reference.StartsWith("#/", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Only local references are supported: {reference}");
        }
        JsonNode? node = _document;
        foreach (var token in reference[2..].Split('/'))
        {
            node = node?[token.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)];
        }
        return node ?? throw new InvalidOperationException($"Unresolved reference {reference}");
    }

    /// <summary>Adds to <paramref name="errors"/> where <paramref name="value"/> (at <paramref name="at"/>) breaks <paramref name="schema"/>.</summary>
    private void Validate(JsonNode? value, JsonNode schema, string at, List<string> errors)
    {
        if (schema is JsonValue boolean && boolean.TryGetValue<bool>(out var allowed))
        {
            if (!allowed)
            {
                errors.Add($"{at} is not allowed");
            }
            return;
        }
        var s = schema.AsObject();
        if (s["$ref"] is JsonValue reference)
        {
            Validate(value, Pointer(reference.GetValue<string>()), at, errors);
        }
        foreach (var part in s["allOf"]?.AsArray() ?? [])
        {
            Validate(value, part!, at, errors);
        }
        if (s["oneOf"] is JsonArray oneOf)
        {
            var matching = oneOf.Count(o => Errors(value, o!, at).Count == 0);
            if (matching != 1)
            {
                errors.Add($"{at} matches {matching} of the oneOf alternatives, not exactly one");
            }
        }
        if (s["anyOf"] is JsonArray anyOf && !anyOf.Any(o => Errors(value, o!, at).Count == 0))
        {
            errors.Add($"{at} matches none of the anyOf alternatives");
        }
        var kind = KindOf(value);
        if (s["type"] is JsonNode type)
        {
            var types = type is JsonArray array ? array.Select(t => t!.GetValue<string>()).ToList() : [type.GetValue<string>()];
            if (!types.Any(t => t == kind || (t == "number" && kind == "integer")))
            {
                errors.Add($"{at} is {kind}, not {string.Join(" or ", types)}");
                return;
            }
        }
        if (s["enum"] is JsonArray values && !values.Any(v => JsonNode.DeepEquals(v, value)))
        {
            errors.Add($"{at} is {value?.ToJsonString() ?? "null"}, not one of {values.ToJsonString()}");
        }
        switch (value)
        {
            case JsonObject obj:
                foreach (var required in s["required"]?.AsArray() ?? [])
                {
                    if (!obj.ContainsKey(required!.GetValue<string>()))
                    {
                        errors.Add($"{at}.{required} is required but missing");
                    }
                }
                var properties = s["properties"]?.AsObject();
                foreach (var (property, propertyValue) in obj)
                {
                    if (properties?[property] is JsonNode propertySchema)
                    {
                        Validate(propertyValue, propertySchema, $"{at}.{property}", errors);
                    }
                    else if (s["additionalProperties"] is JsonNode additional)
                    {
                        Validate(propertyValue, additional, $"{at}.{property}", errors);
                    }
                }
                break;
            case JsonArray array:
                if (s["items"] is JsonNode items)
                {
                    for (var i = 0; i < array.Count; i++)
                    {
                        Validate(array[i], items, $"{at}[{i}]", errors);
                    }
                }
                Bound(at, "items", array.Count, s["minItems"], s["maxItems"], errors);
                break;
            case JsonValue scalar when kind == "string":
                var text = scalar.GetValue<string>();
                Bound(at, "characters", new StringInfo(text).LengthInTextElements, s["minLength"], s["maxLength"], errors);
                if (s["pattern"] is JsonValue pattern && !Regex.IsMatch(text, pattern.GetValue<string>(), RegexOptions.CultureInvariant))
                {
                    errors.Add($"{at} \"{text}\" does not match {pattern}");
                }
                if ((string?)s["format"] == "date-time" && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _))
                {
                    errors.Add($"{at} \"{text}\" is not a date-time");
                }
                break;
            case JsonValue number when kind is "integer" or "number":
                var n = number.GetValue<decimal>();
                if (s["minimum"] is JsonNode min && n < min.GetValue<decimal>())
                {
                    errors.Add($"{at} {n} is below the minimum {min}");
                }
                if (s["maximum"] is JsonNode max && n > max.GetValue<decimal>())
                {
                    errors.Add($"{at} {n} is above the maximum {max}");
                }
                break;
        }
    }

    private List<string> Errors(JsonNode? value, JsonNode schema, string at)
    {
        var errors = new List<string>();
        Validate(value, schema, at, errors);
        return errors;
    }

    private static void Bound(string at, string what, int count, JsonNode? min, JsonNode? max, List<string> errors)
    {
        if (min is not null && count < min.GetValue<int>())
        {
            errors.Add($"{at} has {count} {what}, fewer than {min}");
        }
        if (max is not null && count > max.GetValue<int>())
        {
            errors.Add($"{at} has {count} {what}, more than {max}");
        }
    }

    private static string KindOf(JsonNode? value) => value?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "null",
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Number => value.GetValue<JsonElement>().TryGetInt64(out _) || decimal.Truncate(value.GetValue<JsonElement>().GetDecimal()) == value.GetValue<JsonElement>().GetDecimal() ? "integer" : "number",
        _ => "unknown",
    };
}

/// <summary>An <see cref="HttpClient"/> over <see cref="ContractCheckingHandler"/> that fails its dispose with the violations it recorded.</summary>
public sealed class ContractClient : HttpClient
{
    private readonly ConcurrentQueue<string> _violations;

    private ContractClient(ConcurrentQueue<string> violations)
        : base(new ContractCheckingHandler(ApiContract.Document, violations.Enqueue) { InnerHandler = new SocketsHttpHandler() }) =>
        _violations = violations;

    public static ContractClient Create(Uri baseAddress, TimeSpan timeout) => new(new ConcurrentQueue<string>())
    {
        BaseAddress = baseAddress,
        Timeout = timeout,
    };

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && !_violations.IsEmpty)
        {
            throw new ContractViolationException(string.Join("\n", _violations.Distinct()));
        }
    }
}

/// <summary>A response the OpenAPI document does not describe.</summary>
public sealed class ContractViolationException(string message) : Exception(message);

/// <summary>
/// Every client a <see cref="TestApp"/> hands out passes its responses through this: a response off the contract throws
/// here, in the test that caused it, and is recorded so that <see cref="TestApp"/>'s dispose fails the test even when
/// the test swallowed the exception (a retry loop, a <c>Task.WhenAll</c> that counts failures).
/// </summary>
public sealed class ContractCheckingHandler(ApiContract contract, Action<string> record) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        // Buffered, so the test still reads the body after the check.
        await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var violations = contract.Check(request.Method.Method, request.RequestUri!.AbsolutePath, (int)response.StatusCode,
            response.Content.Headers.ContentType?.ToString(), body);
        if (violations.Count > 0)
        {
            var message = "Off the OpenAPI contract: " + string.Join("\n", violations);
            record(message);
            throw new ContractViolationException(message);
        }
        return response;
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace ThreePL.Functions.Http;

/// <summary>
/// Reads a JSON request body the way every endpoint of the API reads it: at most <see cref="MaxBytes"/>
/// (counted while reading, so a body without a declared length is bounded too), <c>application/json</c>, with
/// the serializer options the responses use. Client mistakes become <see cref="ApiProblemException"/>s with
/// the offending field named. A <c>PUT</c> or <c>PATCH</c> body may name only fields the endpoint knows: such a body
/// replaces or changes stored data, and a misspelt field (<c>{"rulez":[]}</c>) must be an error, never "replace with
/// nothing" or a silent no-op.
/// </summary>
public sealed class RequestBody(IOptions<JsonOptions> json)
{
    public const long MaxBytes = 256 * 1024;

    private const string UnknownField = "Unknown field: this endpoint replaces or changes data and accepts only the fields it documents.";

    private readonly JsonSerializerOptions _options = json.Value.SerializerOptions;
    private readonly JsonSerializerOptions _exactOptions = new(json.Value.SerializerOptions) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

    /// <summary>The body as <typeparamref name="T"/>; an absent body is an error when <paramref name="required"/>, else default.</summary>
    public async Task<T?> ReadAsync<T>(HttpRequest request, bool required, CancellationToken cancellationToken)
    {
        var bytes = await ReadBoundedAsync(request, cancellationToken).ConfigureAwait(false);
        if (bytes.Length == 0)
        {
            return required ? throw BodyRequired() : default;
        }
        if (!request.HasJsonContentType())
        {
            throw new ApiProblemException(Problems.Create(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
                "The request could not be read.", "Send the body as application/json."));
        }
        var exact = HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method);
        T? value;
        try
        {
            value = JsonSerializer.Deserialize<T>(bytes, exact ? _exactOptions : _options);
        }
        catch (JsonException ex) when (exact && Unmapped<T>(ex, bytes) is { } field)
        {
            throw new ApiProblemException(Problems.Validation(field, UnknownField));
        }
        catch (JsonException ex)
        {
            throw new ApiProblemException(Malformed(ex));
        }
        return value is null && required ? throw BodyRequired() : value;
    }

    public static ApiProblemException TooLarge() => new(Problems.Create(StatusCodes.Status413PayloadTooLarge, "payload_too_large",
        "The request body is too large.", $"Request bodies are limited to {MaxBytes} bytes."));

    private static async Task<byte[]> ReadBoundedAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes)
        {
            throw TooLarge();
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
            {
                throw TooLarge();
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static ApiProblemException BodyRequired() => new(Problems.Create(StatusCodes.Status400BadRequest, "body_required",
        "The request could not be read.", "A JSON body is required."));

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Malformed(JsonException exception)
    {
        var field = JsonPathToField(exception.Path);
        var message = field.Length == 0 ? "The body is not valid JSON." : "The value has the wrong type or is not valid JSON.";
        var problem = Problems.Validation(new Dictionary<string, string[]> { [field.Length == 0 ? "$" : field] = [message] }, message);
        problem.ProblemDetails.Title = "The request body could not be read.";
        problem.ProblemDetails.Type = Problems.TypeFor("malformed_json");
        problem.ProblemDetails.Extensions["code"] = "malformed_json";
        return problem;
    }

    /// <summary>
    /// The unknown field an exact read stumbled on, or null when the failure was another one: read leniently, the
    /// same bytes either fail too (then that failure is the one to report) or succeed (the unknown field was the fault).
    /// </summary>
    private string? Unmapped<T>(JsonException exception, byte[] bytes)
    {
        try
        {
            JsonSerializer.Deserialize<T>(bytes, _options);
        }
        catch (JsonException)
        {
            return null;
        }
        var field = JsonPathToField(exception.Path);
        return field.Length == 0 ? "$" : field;
    }

    /// <summary>Turns System.Text.Json's <c>$.lines[3].quantity</c> into the field name <c>lines[3].quantity</c>.</summary>
    private static string JsonPathToField(string? path) =>
        path is null or "$" ? "" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
}

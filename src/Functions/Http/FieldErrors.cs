using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;

namespace ThreePL.Functions.Http;

/// <summary>HTTP-side helpers over the domain's <see cref="FieldErrors"/>: request field checks and the problem.</summary>
public static class FieldErrorsExtensions
{
    /// <summary>Checks a required or optional single-line text: length bounds, no control characters; returns it trimmed.</summary>
    public static string? Text(this FieldErrors errors, string field, string? value, int maxLength, bool required = true)
    {
        if (value is null)
        {
            if (required)
            {
                errors.Add(field, "This field is required.");
            }
            return null;
        }
        var trimmed = value.Trim();
        if (trimmed.Length == 0)
        {
            errors.Add(field, required ? "This field is required." : "Must not be blank.");
        }
        else if (trimmed.Length > maxLength)
        {
            errors.Add(field, $"Must be at most {maxLength} characters.");
        }
        else if (trimmed.Any(char.IsControl))
        {
            errors.Add(field, "Must not contain control characters.");
        }
        return trimmed;
    }

    public static ProblemHttpResult ToProblem(this FieldErrors errors) => Problems.Validation(errors.ToDictionary());
}

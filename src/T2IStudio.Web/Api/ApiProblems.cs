using Microsoft.AspNetCore.Http.HttpResults;
using T2IStudio.Generation.Pipelines;

namespace T2IStudio.Web.Api;

/// <summary>The JSON names a request's generation fields go by in one API, so a problem names the field the caller sent.</summary>
public sealed record ApiFieldNames(string Prompt, string NegativePrompt, string Steps, string Guidance, string Width, string Height,
    string BatchSize, string Strength)
{
    /// <summary>T2I Studio's own API (<c>/api/v1</c>): camelCase.</summary>
    public static ApiFieldNames V1 { get; } = new("prompt", "negativePrompt", "steps", "guidance", "width", "height", "batchSize", "strength");

    /// <summary>The AUTOMATIC1111 API (<c>/sdapi/v1</c>): A1111's snake_case.</summary>
    public static ApiFieldNames A1111 { get; } = new("prompt", "negative_prompt", "steps", "cfg_scale", "width", "height", "batch_size", "denoising_strength");
}

/// <summary>
/// RFC 9457 problem details for the API: a field-named 400 for a bad request, and the service's refusals in words.
/// Missing things answer a bare 404 (the status-code middleware writes its problem body), exactly like someone else's id.
/// </summary>
public static class ApiProblems
{
    /// <summary>The title of every 400 about the request's fields.</summary>
    public const string InvalidTitle = "The request is not valid.";

    /// <summary>A 400 naming <paramref name="field"/>.</summary>
    public static ValidationProblem Invalid(string field, string message) =>
        Invalid([(field, message)]);

    /// <summary>A 400 naming each field; <c>detail</c> repeats the first message for clients that show one line.</summary>
    public static ValidationProblem Invalid(IReadOnlyList<(string Field, string Message)> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        var errors = problems.GroupBy(p => p.Field, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(p => p.Message).ToArray(), StringComparer.Ordinal);
        return TypedResults.ValidationProblem(errors, detail: problems.Count > 0 ? problems[0].Message : null, title: InvalidTitle);
    }

    /// <summary>
    /// A refusal the generation service gave in words (quota, storage, a model that cannot do this): 429 when it is
    /// a queue limit, 400 otherwise; the messages are under <c>errors.request</c>.
    /// </summary>
    public static ProblemHttpResult Refused(IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var limit = errors.Any(e => e.Contains("the most allowed is", StringComparison.Ordinal));
        return TypedResults.Problem(
            detail: string.Join(" ", errors),
            statusCode: limit ? StatusCodes.Status429TooManyRequests : StatusCodes.Status400BadRequest,
            title: limit ? "Too many jobs waiting." : "The request was refused.",
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["request"] = [.. errors] } });
    }

    /// <summary>
    /// The field-level problems of a generation request, checked against <see cref="GenerationLimits"/> before it
    /// reaches the service (which checks the model-specific rest).
    /// </summary>
    public static IReadOnlyList<(string Field, string Message)> Check(GenerationRequest request, ApiFieldNames names, bool startsFromImage = false)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(names);
        var problems = new List<(string, string)>();
        if (request.Prompt is null)
        {
            problems.Add((names.Prompt, "The prompt is required (it may be empty text, \"\")."));
        }
        else if (request.Prompt.Length > GenerationLimits.MaxPromptLength)
        {
            problems.Add((names.Prompt, $"The prompt must be at most {GenerationLimits.MaxPromptLength} characters."));
        }
        if ((request.NegativePrompt?.Length ?? 0) > GenerationLimits.MaxPromptLength)
        {
            problems.Add((names.NegativePrompt, $"The negative prompt must be at most {GenerationLimits.MaxPromptLength} characters."));
        }
        if (GenerationLimits.HasNul(request.Prompt))
        {
            problems.Add((names.Prompt, GenerationLimits.NulMessage));
        }
        if (GenerationLimits.HasNul(request.NegativePrompt))
        {
            problems.Add((names.NegativePrompt, GenerationLimits.NulMessage));
        }
        if (request.Steps is < GenerationLimits.MinSteps or > GenerationLimits.MaxSteps)
        {
            problems.Add((names.Steps, $"Steps must be between {GenerationLimits.MinSteps} and {GenerationLimits.MaxSteps}; it was {request.Steps}."));
        }
        if (double.IsNaN(request.GuidanceScale) || request.GuidanceScale is < GenerationLimits.MinGuidance or > GenerationLimits.MaxGuidance)
        {
            problems.Add((names.Guidance, $"Guidance must be between {GenerationLimits.MinGuidance} and {GenerationLimits.MaxGuidance}."));
        }
        foreach (var (field, value) in new[] { (names.Width, request.Width), (names.Height, request.Height) })
        {
            if (value is < 8 or > GenerationLimits.MaxSide || value % 8 != 0)
            {
                problems.Add((field, $"{char.ToUpperInvariant(field[0])}{field[1..]} must be a multiple of 8 between 8 and {GenerationLimits.MaxSide}; it was {value}."));
            }
        }
        if (request.BatchSize is < GenerationLimits.MinBatchSize or > GenerationLimits.MaxBatchSize)
        {
            problems.Add((names.BatchSize, $"The batch size must be between {GenerationLimits.MinBatchSize} and {GenerationLimits.MaxBatchSize}; it was {request.BatchSize}."));
        }
        if (startsFromImage && (double.IsNaN(request.Strength) || request.Strength is < GenerationLimits.MinStrength or > GenerationLimits.MaxStrength))
        {
            problems.Add((names.Strength, $"The denoising strength must be between {GenerationLimits.MinStrength} and {GenerationLimits.MaxStrength}."));
        }
        return problems;
    }
}

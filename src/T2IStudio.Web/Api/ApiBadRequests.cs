using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;

namespace T2IStudio.Web.Api;

/// <summary>
/// A request the framework could not bind (a JSON value of the wrong type, a malformed query value): on the API it
/// answers a 400 problem naming the field, as every other bad request does; elsewhere the plain 400 it always was.
/// Binding throws because <c>RouteHandlerOptions.ThrowOnBadRequest</c> is on.
/// </summary>
public sealed partial class ApiBadRequests(ILogger<ApiBadRequests> logger) : IExceptionHandler
{
    /// <inheritdoc />
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }
        LogUnbound(bad.Message);
        httpContext.Response.StatusCode = bad.StatusCode;
        if (!ApiEndpoints.IsApiRequest(httpContext) || httpContext.Response.HasStarted)
        {
            return true;
        }
        IResult problem = bad.StatusCode == StatusCodes.Status400BadRequest
            ? ProblemOf(bad, (httpContext.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? httpContext.GetEndpoint())?.Metadata.GetMetadata<System.Reflection.MethodInfo>())
            : TypedResults.Problem(statusCode: bad.StatusCode, detail: bad.Message);
        await problem.ExecuteAsync(httpContext);
        return true;
    }

    /// <summary>
    /// The field a binding failure is about, and what to say: the JSON path when the body would not read, else the
    /// parameter the framework names — as the caller wrote it (a <c>[FromQuery(Name = …)]</c> name) when
    /// <paramref name="handler"/> says so.
    /// </summary>
    public static ValidationProblem ProblemOf(BadHttpRequestException bad, System.Reflection.MethodInfo? handler = null)
    {
        ArgumentNullException.ThrowIfNull(bad);
        // A value of the wrong type ("could not be converted"); anything else is JSON that does not parse.
        if (bad.InnerException is JsonException { Path: { Length: > 0 } path } json && json.Message.Contains("could not be converted", StringComparison.Ordinal))
        {
            var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
            field = field.Length == 0 ? "body" : field;
            return ApiProblems.Invalid(field, $"The value of {field} is not of the type it must be (a whole number, a number, text, true/false or a list, as the reference says).");
        }
        if (bad.InnerException is JsonException)
        {
            return ApiProblems.Invalid("body", "The request body is not valid JSON.");
        }
        // The framework names the parameter in its message: 'Failed to bind parameter "int limit" from "x".'
        var named = System.Text.RegularExpressions.Regex.Match(bad.Message, "parameter \"(?:[^\" ]+ )?([^\" ]+)\"");
        if (!named.Success)
        {
            return ApiProblems.Invalid("request", bad.Message);
        }
        var parameter = named.Groups[1].Value;
        var asSent = handler?.GetParameters().FirstOrDefault(p => p.Name == parameter)
            ?.GetCustomAttributes(typeof(Microsoft.AspNetCore.Mvc.FromQueryAttribute), false).OfType<Microsoft.AspNetCore.Mvc.FromQueryAttribute>().FirstOrDefault()?.Name;
        var name = asSent ?? parameter;
        return ApiProblems.Invalid(name, $"The value of {name} could not be read: {bad.Message}");
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "A request could not be bound: {Reason}")]
    private partial void LogUnbound(string reason);
}

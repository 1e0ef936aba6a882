using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Api;

/// <summary>
/// The <see cref="ApiTokenClaims.Scheme"/> handler: <c>Authorization: Bearer t2i_…</c> becomes a principal for the
/// token's owner carrying the token's id and scope. A missing, wrong, expired or revoked token (or a disabled owner)
/// answers 401 as problem details; a token without the scope a route needs answers 403. It never redirects.
/// </summary>
public sealed partial class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiTokenService tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    /// <summary>What a refused token is told.</summary>
    public const string RefusedMessage = "Send a valid API token: Authorization: Bearer t2i_… (make one on Account → API tokens). It may have expired or been revoked.";

    private readonly ILogger _log = loggerFactory.CreateLogger<ApiTokenAuthenticationHandler>();

    /// <summary>The bearer value of a request, or null.</summary>
    public static string? PresentedToken(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (PresentedToken(Request) is not { Length: > 0 } presented)
        {
            return AuthenticateResult.NoResult();
        }
        var match = await tokens.VerifyAsync(presented, Context.RequestAborted);
        if (match is null)
        {
            LogRefused(Context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            return AuthenticateResult.Fail(RefusedMessage);
        }
        return AuthenticateResult.Success(new AuthenticationTicket(ApiTokenClaims.PrincipalOf(match), ApiTokenClaims.Scheme));
    }

    /// <inheritdoc />
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        return WriteProblemAsync(StatusCodes.Status401Unauthorized, "Not authenticated", RefusedMessage);
    }

    /// <inheritdoc />
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "Not allowed with this token",
            $"This token's scope is Read. Submitting, cancelling and changing need a token with the \"Read and generate\" scope ({nameof(ApiTokenScope.ReadAndGenerate)}).");

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        // The problem itself, not the app's status page.
        if (Context.Features.Get<IStatusCodePagesFeature>() is { } statusPages)
        {
            statusPages.Enabled = false;
        }
        Response.StatusCode = status;
        await Results.Problem(detail: detail, statusCode: status, title: title).ExecuteAsync(Context);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused an API token from {Address}: unknown, expired or revoked, or its owner is disabled")]
    private partial void LogRefused(string address);
}

/// <summary>Registration of the token scheme and the API's policies.</summary>
public static class ApiAuthenticationExtensions
{
    /// <summary>Adds <see cref="ApiTokenClaims.Scheme"/>, <see cref="ApiTokenClaims.ReadPolicy"/> and <see cref="ApiTokenClaims.GeneratePolicy"/>.</summary>
    public static IServiceCollection AddApiTokens(this IServiceCollection services)
    {
        services.AddOptions<ApiOptions>()
            .BindConfiguration(ApiOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddScoped<ApiTokenService>();
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenClaims.Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiTokenClaims.ReadPolicy, policy => policy.AddAuthenticationSchemes(ApiTokenClaims.Scheme).RequireAuthenticatedUser())
            .AddPolicy(ApiTokenClaims.GeneratePolicy, policy => policy.AddAuthenticationSchemes(ApiTokenClaims.Scheme).RequireAuthenticatedUser()
                .RequireClaim(ApiTokenClaims.ScopeClaim, nameof(ApiTokenScope.ReadAndGenerate)));
        return services;
    }
}

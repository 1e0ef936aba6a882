using System.Globalization;
using System.Security.Claims;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Api;

/// <summary>The names of the API-token scheme, its policies and its claims, and readers for a token principal.</summary>
public static class ApiTokenClaims
{
    /// <summary>The authentication scheme: <c>Authorization: Bearer t2i_…</c>. Cookies never authenticate the API.</summary>
    public const string Scheme = "ApiToken";

    /// <summary>Policy of every API route: a valid token of either scope (and nothing else: no cookie).</summary>
    public const string ReadPolicy = "ApiRead";

    /// <summary>Policy of the routes that submit, cancel or change: a token with the "Read and generate" scope.</summary>
    public const string GeneratePolicy = "ApiGenerate";

    /// <summary>The claim naming the token ("N"-format id of its <c>ApiTokens</c> row).</summary>
    public const string TokenIdClaim = "t2i:api-token";

    /// <summary>The claim holding the token's <see cref="ApiTokenScope"/> name.</summary>
    public const string ScopeClaim = "t2i:api-scope";

    /// <summary>The prefix of every token's secret, so a leaked one is easy to recognise (and to scan for).</summary>
    public const string SecretPrefix = "t2i_";

    /// <summary>The token a principal authenticated with, or null (a browser circuit, the CLI).</summary>
    public static Guid? TokenIdOf(ClaimsPrincipal? user) =>
        user?.FindFirstValue(TokenIdClaim) is { } id && Guid.TryParseExact(id, "N", out var tokenId) ? tokenId : null;

    /// <summary>The scope of the token a principal authenticated with, or null.</summary>
    public static ApiTokenScope? ScopeOf(ClaimsPrincipal? user) =>
        user?.FindFirstValue(ScopeClaim) is { } scope && Enum.TryParse<ApiTokenScope>(scope, out var parsed) ? parsed : null;

    /// <summary>The claims of a principal for <paramref name="match"/>.</summary>
    public static ClaimsPrincipal PrincipalOf(ApiTokenMatch match)
    {
        ArgumentNullException.ThrowIfNull(match);
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, match.OwnerId),
                new Claim(ClaimTypes.Name, match.OwnerEmail),
                new Claim(TokenIdClaim, match.TokenId.ToString("N", CultureInfo.InvariantCulture)),
                new Claim(ScopeClaim, match.Scope.ToString()),
            ],
            Scheme);
        return new ClaimsPrincipal(identity);
    }
}

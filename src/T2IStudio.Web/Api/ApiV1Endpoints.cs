using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Api;

/// <summary>Who a token is: its owner and what it may do.</summary>
/// <param name="UserId">The owner's id.</param>
/// <param name="Email">The owner's email.</param>
/// <param name="TokenId">The token.</param>
/// <param name="Scope"><c>Read</c> or <c>ReadAndGenerate</c>.</param>
public sealed record ApiIdentityDto(string UserId, string Email, Guid TokenId, string Scope);

/// <summary>T2I Studio's own API under <c>/api/v1</c>: each area maps its routes from its own file.</summary>
public static class ApiV1Endpoints
{
    /// <summary>Maps the routes of <c>/api/v1</c> onto <paramref name="v1"/> (already token-authenticated and rate-limited).</summary>
    public static RouteGroupBuilder MapApiV1(this RouteGroupBuilder v1)
    {
        ArgumentNullException.ThrowIfNull(v1);
        v1.MapGet("/me", GetMe).WithTags("Account").WithName("GetMe").WithSummary("Who this token acts as, and its scope.");
        v1.MapApiV1Jobs();
        v1.MapApiV1Library();
        return v1;
    }

    /// <summary>The token's owner and scope.</summary>
    public static Ok<ApiIdentityDto> GetMe(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return TypedResults.Ok(new ApiIdentityDto(user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "", user.FindFirstValue(ClaimTypes.Name) ?? "",
            ApiTokenClaims.TokenIdOf(user) ?? Guid.Empty, (ApiTokenClaims.ScopeOf(user) ?? ApiTokenScope.Read).ToString()));
    }
}

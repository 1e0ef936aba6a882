using System.Globalization;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Api;

namespace T2IStudio.Web.Components.ApiTokens;

/// <summary>Whether a token still works, in the words the token lists show.</summary>
public enum ApiTokenStatus
{
    /// <summary>It authenticates.</summary>
    Active,

    /// <summary>Its expiry has passed.</summary>
    Expired,

    /// <summary>Its owner or an admin revoked it.</summary>
    Revoked,
}

/// <summary>How the token page and the admin list write a token's scope, times and status (one wording for both).</summary>
public static class ApiTokenDisplay
{
    /// <summary>The scope as the form names it.</summary>
    public static string Scope(ApiTokenScope scope) => scope switch
    {
        ApiTokenScope.ReadAndGenerate => "Read and generate",
        _ => "Read",
    };

    /// <summary>A moment in UTC to the minute, or <paramref name="none"/> when there is none.</summary>
    public static string Time(DateTimeOffset? at, string none = "never") =>
        at is { } value ? value.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC" : none;

    /// <summary>Revoked wins over expired: a revoked token stays revoked whatever its expiry.</summary>
    public static ApiTokenStatus Status(ApiTokenSummary token, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.RevokedAt is not null)
        {
            return ApiTokenStatus.Revoked;
        }
        return token.IsActive(now) ? ApiTokenStatus.Active : ApiTokenStatus.Expired;
    }
}

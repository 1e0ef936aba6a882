using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Auth;

namespace T2IStudio.Web.Api;

/// <summary>One row of a token list (never the secret).</summary>
/// <param name="Id">The token.</param>
/// <param name="OwnerId">Whose it is.</param>
/// <param name="OwnerEmail">Its owner's email (the admin list shows it).</param>
/// <param name="Name">Its name.</param>
/// <param name="Scope">What it may do.</param>
/// <param name="Prefix">The secret's first characters.</param>
/// <param name="CreatedAt">Made.</param>
/// <param name="ExpiresAt">Stops working; null for never.</param>
/// <param name="LastUsedAt">Last request with it (to the minute).</param>
/// <param name="RevokedAt">Revoked.</param>
public sealed record ApiTokenSummary(Guid Id, string OwnerId, string OwnerEmail, string Name, ApiTokenScope Scope, string Prefix,
    DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
{
    /// <summary>Whether it still authenticates at <paramref name="now"/>.</summary>
    public bool IsActive(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || ExpiresAt > now);
}

/// <summary>A new token: <see cref="Secret"/> is shown this once (only its hash is stored).</summary>
public sealed record ApiTokenCreated(ApiTokenSummary Token, string Secret);

/// <summary>What creating a token gave: the token, or why not.</summary>
/// <param name="Created">The token, when it was made.</param>
/// <param name="Error">Why it was not, in words for the person.</param>
/// <param name="Field">The form field the error is about (<c>name</c>, <c>expires</c>, <c>scope</c>), when one is.</param>
public sealed record ApiTokenCreation(ApiTokenCreated? Created, string? Error, string? Field = null)
{
    /// <summary>The token was made.</summary>
    public bool Succeeded => Created is not null;
}

/// <summary>A token that authenticated a request: whose, what it may do, and the model the A1111 API selected for it.</summary>
public sealed record ApiTokenMatch(Guid TokenId, string OwnerId, string OwnerEmail, ApiTokenScope Scope, string? Model);

/// <summary>
/// Personal access tokens: made by their owner (the secret is returned once and stored as its SHA-256), listed,
/// revoked by their owner or any admin, and verified on every API request. A token acts as its owner: a disabled
/// owner's tokens stop at the next request; an expired or revoked one authenticates nothing.
/// </summary>
public sealed partial class ApiTokenService(
    IDbContextFactory<AppDbContext> dbFactory,
    UserAccessGate gate,
    IOptionsMonitor<ApiOptions> options,
    TimeProvider time,
    ILogger<ApiTokenService> logger)
{
    /// <summary>The longest token name.</summary>
    public const int MaxNameLength = 100;

    /// <summary>How far ahead an expiry may be set.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(366);

    private const int ShownPrefixLength = 12;
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    /// <summary>Lower-case hex SHA-256 of <paramref name="secret"/>, as <c>ApiTokens.SecretHash</c> stores it.</summary>
    public static string Hash(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
    }

    /// <summary>The person's tokens, newest first (revoked and expired ones too, marked so).</summary>
    public async Task<IReadOnlyList<ApiTokenSummary>> ListAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return [];
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await SummariesAsync(db.ApiTokens.Where(t => t.OwnerId == userId), cancellationToken);
    }

    /// <summary>Everyone's tokens, newest first, for an admin; empty for anyone else.</summary>
    public async Task<IReadOnlyList<ApiTokenSummary>> ListAllAsync(ClaimsPrincipal admin, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await IsAdminAsync(db, admin, cancellationToken))
        {
            return [];
        }
        return await SummariesAsync(db.ApiTokens, cancellationToken);
    }

    /// <summary>
    /// Makes a token for the person: 32 random bytes, base64url, after <see cref="ApiTokenClaims.SecretPrefix"/>.
    /// <paramref name="expiresAt"/> must be in the future and within <see cref="MaxLifetime"/>; null never expires.
    /// </summary>
    public async Task<ApiTokenCreation> CreateAsync(ClaimsPrincipal user, string name, ApiTokenScope scope, DateTimeOffset? expiresAt, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return new(null, "Sign in to make a token.");
        }
        name = (name ?? "").Trim();
        if (name.Length == 0)
        {
            return new(null, "Give the token a name.", "name");
        }
        if (name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            return new(null, $"A token name is at most {MaxNameLength} characters, with no control characters.", "name");
        }
        if (!Enum.IsDefined(scope))
        {
            return new(null, "Choose a scope: Read, or Read and generate.", "scope");
        }
        var now = time.GetUtcNow();
        if (expiresAt is { } expiry && (expiry <= now || expiry > now + MaxLifetime))
        {
            return new(null, $"The expiry must be in the future and at most {MaxLifetime.TotalDays:0} days away.", "expires");
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var active = await db.ApiTokens.CountAsync(t => t.OwnerId == userId && t.RevokedAt == null && (t.ExpiresAt == null || t.ExpiresAt > now), cancellationToken);
        var limit = options.CurrentValue.MaxTokensPerUser;
        if (active >= limit)
        {
            return new(null, $"You have {active} active tokens, the most allowed is {limit}. Revoke one first.");
        }
        var secret = ApiTokenClaims.SecretPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var row = new ApiToken
        {
            Id = Guid.NewGuid(),
            OwnerId = userId,
            Name = name,
            Scope = scope,
            SecretHash = Hash(secret),
            Prefix = secret[..ShownPrefixLength],
            CreatedAt = now,
            ExpiresAt = expiresAt,
        };
        db.ApiTokens.Add(row);
        await db.SaveChangesAsync(cancellationToken);
        LogCreated(row.Id, userId, scope);
        var email = await db.Users.Where(u => u.Id == userId).Select(u => u.Email).SingleOrDefaultAsync(cancellationToken) ?? "";
        return new(new ApiTokenCreated(Summary(row, email), secret), null);
    }

    /// <summary>
    /// Revokes a token: its owner may, and so may an admin (anyone's). False when it does not exist for the caller
    /// (someone else's token reads as missing) or was already revoked.
    /// </summary>
    public async Task<bool> RevokeAsync(ClaimsPrincipal user, Guid tokenId, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return false;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.ApiTokens.SingleOrDefaultAsync(t => t.Id == tokenId, cancellationToken);
        if (row is null || (row.OwnerId != userId && !await IsAdminAsync(db, user, cancellationToken)) || row.RevokedAt is not null)
        {
            return false;
        }
        row.RevokedAt = time.GetUtcNow();
        row.RevokedById = userId;
        await db.SaveChangesAsync(cancellationToken);
        LogRevoked(row.Id, row.OwnerId, userId);
        return true;
    }

    /// <summary>
    /// The token <paramref name="presented"/> is, when it authenticates now: it exists, is not revoked or expired,
    /// and its owner may act (not disabled). Updates its last use at most once a minute.
    /// </summary>
    public async Task<ApiTokenMatch?> VerifyAsync(string presented, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(presented);
        presented = presented.Trim();
        if (!presented.StartsWith(ApiTokenClaims.SecretPrefix, StringComparison.Ordinal) || presented.Length > 200)
        {
            return null;
        }
        var hash = Hash(presented);
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.ApiTokens.AsNoTracking()
            .Where(t => t.SecretHash == hash)
            .Select(t => new { t.Id, t.OwnerId, Email = t.Owner!.Email, t.Scope, t.Model, t.RevokedAt, t.ExpiresAt, t.LastUsedAt })
            .SingleOrDefaultAsync(cancellationToken);
        if (row is null || row.RevokedAt is not null || (row.ExpiresAt is { } expires && expires <= now)
            || !await gate.IsAllowedAsync(row.OwnerId, cancellationToken))
        {
            return null;
        }
        if (row.LastUsedAt is not { } used || now - used >= LastUsedResolution)
        {
            await db.ApiTokens.Where(t => t.Id == row.Id).ExecuteUpdateAsync(set => set.SetProperty(t => t.LastUsedAt, now), cancellationToken);
        }
        return new ApiTokenMatch(row.Id, row.OwnerId, row.Email ?? "", row.Scope, row.Model);
    }

    /// <summary>The model the A1111 API selected for the caller's token, or null (none selected, or not a token).</summary>
    public async Task<string?> SelectedModelAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        if (ApiTokenClaims.TokenIdOf(user) is not { } tokenId)
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.ApiTokens.Where(t => t.Id == tokenId).Select(t => t.Model).SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>Selects <paramref name="model"/> for the caller's token's later calls (A1111 <c>options</c>); false when not a token.</summary>
    public async Task<bool> SelectModelAsync(ClaimsPrincipal user, string? model, CancellationToken cancellationToken = default)
    {
        if (ApiTokenClaims.TokenIdOf(user) is not { } tokenId || ResourceAccess.UserId(user) is not { } userId)
        {
            return false;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.ApiTokens.Where(t => t.Id == tokenId && t.OwnerId == userId)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Model, model), cancellationToken) == 1;
    }

    private static async Task<IReadOnlyList<ApiTokenSummary>> SummariesAsync(IQueryable<ApiToken> tokens, CancellationToken cancellationToken)
    {
        var rows = await tokens.AsNoTracking().Select(t => new { Token = t, Email = t.Owner!.Email }).ToListAsync(cancellationToken);
        return [.. rows.OrderByDescending(r => r.Token.CreatedAt).Select(r => Summary(r.Token, r.Email ?? ""))];
    }

    private static ApiTokenSummary Summary(ApiToken t, string email) =>
        new(t.Id, t.OwnerId, email, t.Name, t.Scope, t.Prefix, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt);

    private static async Task<bool> IsAdminAsync(AppDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        ResourceAccess.UserId(user) is { } userId && await db.AdminUserIds().AnyAsync(id => id == userId, cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "API token {TokenId} made by {UserId} with scope {Scope}")]
    private partial void LogCreated(Guid tokenId, string userId, ApiTokenScope scope);

    [LoggerMessage(Level = LogLevel.Information, Message = "API token {TokenId} of {OwnerId} revoked by {UserId}")]
    private partial void LogRevoked(Guid tokenId, string ownerId, string userId);
}

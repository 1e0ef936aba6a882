using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using T2IStudio.Data;
using T2IStudio.Generation.Workers;

namespace T2IStudio.Web.Workers;

/// <summary>The names of the worker-key scheme, its policy and its claims.</summary>
public static class WorkerKeyAuthentication
{
    /// <summary>The authentication scheme: <c>Authorization: Bearer KEY</c> (or <c>access_token</c> on the hub's WebSocket).</summary>
    public const string Scheme = "WorkerKey";

    /// <summary>The authorization policy of <c>/hubs/workers</c>: a valid worker key, nothing else (no cookie).</summary>
    public const string Policy = "WorkerKey";

    /// <summary>The claim naming the key a worker joined with: a <c>WorkerKeys</c> row id (32 hex digits), or <see cref="ConfiguredKeyId"/>.</summary>
    public const string KeyIdClaim = "t2i:worker-key";

    /// <summary>The key id of every key from <c>Workers:Keys</c>.</summary>
    public const string ConfiguredKeyId = "config";

    /// <summary>What the worker is told, and prints, when its key is refused.</summary>
    public const string RefusedMessage = "The server refused this worker's key.";
}

/// <summary>A key that matched: which one, and its name for the log.</summary>
/// <param name="KeyId">A <c>WorkerKeys</c> row id ("N" format) or <see cref="WorkerKeyAuthentication.ConfiguredKeyId"/>.</param>
/// <param name="Name">The key's name (<c>Workers:Keys</c> for configured keys).</param>
public sealed record WorkerKeyMatch(string KeyId, string Name);

/// <summary>
/// Checks a key a worker presents: one of <c>Workers:Keys</c> (compared in constant time) or the SHA-256 of a
/// <c>WorkerKeys</c> row that is not revoked (whose <c>LastUsedAt</c> it then updates).
/// </summary>
public sealed class WorkerKeyVerifier(IDbContextFactory<AppDbContext> dbFactory, IOptionsMonitor<WorkersOptions> options, TimeProvider time)
{
    /// <summary>Lower-case hex SHA-256 of <paramref name="key"/>, as <c>WorkerKeys.KeyHash</c> stores it.</summary>
    public static string Hash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    /// <summary>The key <paramref name="presented"/> matches, or null.</summary>
    public async Task<WorkerKeyMatch?> VerifyAsync(string presented, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(presented);
        presented = presented.Trim();
        if (presented.Length < WorkersOptions.MinKeyLength || presented.Length > 512)
        {
            return null;
        }
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        // Every configured key is compared, matched or not, so the time taken says nothing about which matched.
        var configured = false;
        foreach (var key in options.CurrentValue.Keys)
        {
            configured |= CryptographicOperations.FixedTimeEquals(hash, SHA256.HashData(Encoding.UTF8.GetBytes(key.Trim())));
        }
        if (configured)
        {
            return new WorkerKeyMatch(WorkerKeyAuthentication.ConfiguredKeyId, "Workers:Keys");
        }
        var hex = Convert.ToHexStringLower(hash);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.WorkerKeys.SingleOrDefaultAsync(k => k.KeyHash == hex && k.RevokedAt == null, cancellationToken);
        if (row is null)
        {
            return null;
        }
        row.LastUsedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return new WorkerKeyMatch(row.Id.ToString("N"), row.Name);
    }
}

/// <summary>
/// The <see cref="WorkerKeyAuthentication.Scheme"/> handler: a bearer worker key becomes a principal carrying
/// <see cref="WorkerKeyAuthentication.KeyIdClaim"/>; a wrong or revoked key answers 401 (no redirect to sign-in).
/// </summary>
public sealed partial class WorkerKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    WorkerKeyVerifier verifier)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    private readonly ILogger _log = loggerFactory.CreateLogger<WorkerKeyAuthenticationHandler>();

    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedKey();
        if (presented is null)
        {
            return AuthenticateResult.NoResult();
        }
        var match = await verifier.VerifyAsync(presented, Context.RequestAborted);
        if (match is null)
        {
            LogRefused(Context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            return AuthenticateResult.Fail(WorkerKeyAuthentication.RefusedMessage);
        }
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, "worker:" + match.KeyId),
                new Claim(ClaimTypes.Name, match.Name),
                new Claim(WorkerKeyAuthentication.KeyIdClaim, match.KeyId),
            ],
            WorkerKeyAuthentication.Scheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), WorkerKeyAuthentication.Scheme));
    }

    /// <inheritdoc />
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // A plain 401 with a reason, not the app's status page: the worker prints why it cannot join.
        if (Context.Features.Get<IStatusCodePagesFeature>() is { } statusPages)
        {
            statusPages.Enabled = false;
        }
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        Response.ContentType = "text/plain; charset=utf-8";
        await Response.WriteAsync(WorkerKeyAuthentication.RefusedMessage, Context.RequestAborted);
    }

    private string? PresentedKey()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }
        // Browsers' WebSocket API cannot set headers, so SignalR clients may send the token in the query instead.
        if (Request.Path.StartsWithSegments(WorkerHubNames.Path) && Request.Query["access_token"] is { Count: 1 } token)
        {
            return token.ToString();
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a worker from {Address}: its key matches no worker key (or was revoked)")]
    private partial void LogRefused(string address);
}

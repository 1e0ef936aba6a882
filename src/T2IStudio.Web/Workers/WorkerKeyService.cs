using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Cluster;

namespace T2IStudio.Web.Workers;

/// <summary>One row of the Admin page's worker-key list (never the key itself).</summary>
public sealed record WorkerKeySummary(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
{
    /// <summary>Revoked keys let no worker in.</summary>
    public bool IsRevoked => RevokedAt is not null;
}

/// <summary>A new worker key; <see cref="Secret"/> is shown this once (only its hash is stored).</summary>
public sealed record WorkerKeyCreated(WorkerKeySummary Key, string Secret);

/// <summary>What creating a key gave: the key, or why not.</summary>
/// <param name="Created">The key, when it was made.</param>
/// <param name="Message">For a snackbar.</param>
public sealed record WorkerKeyCreation(WorkerKeyCreated? Created, string Message)
{
    /// <summary>The key was made.</summary>
    public bool Succeeded => Created is not null;
}

/// <summary>
/// Named worker keys, for admins only: list, create (the key is returned once, stored as its SHA-256) and revoke
/// (workers connected with it are disconnected at once). Anyone else gets <see cref="UnauthorizedAccessException"/>.
/// </summary>
public sealed partial class WorkerKeyService(
    IDbContextFactory<AppDbContext> dbFactory,
    WorkerConnections connections,
    IClusterBus cluster,
    TimeProvider time,
    ILogger<WorkerKeyService> logger)
{
    /// <summary>What every key starts with, so a leaked one is recognisable.</summary>
    public const string SecretPrefix = "t2iw_";

    /// <summary>The longest key name.</summary>
    public const int MaxNameLength = 100;

    private const int ShownPrefixLength = 12;

    /// <summary>Every key, newest first.</summary>
    public async Task<IReadOnlyList<WorkerKeySummary>> ListAsync(ClaimsPrincipal admin, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await DemandAdminAsync(db, admin, cancellationToken);
        var keys = await db.WorkerKeys.AsNoTracking().ToListAsync(cancellationToken);
        return [.. keys.OrderByDescending(k => k.CreatedAt).Select(Summary)];
    }

    /// <summary>Makes a key named <paramref name="name"/>: 32 random bytes, base64url, after <see cref="SecretPrefix"/>.</summary>
    public async Task<WorkerKeyCreation> CreateAsync(ClaimsPrincipal admin, string name, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var adminId = await DemandAdminAsync(db, admin, cancellationToken);
        name = (name ?? "").Trim();
        if (name.Length is 0 or > MaxNameLength)
        {
            return new WorkerKeyCreation(null, $"Give the key a name of 1 to {MaxNameLength} characters.");
        }
        if (await db.WorkerKeys.AnyAsync(k => k.Name == name, cancellationToken))
        {
            return new WorkerKeyCreation(null, $"A key named \"{name}\" exists already.");
        }
        var secret = SecretPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var key = new WorkerKey
        {
            Id = Guid.NewGuid(),
            Name = name,
            KeyHash = WorkerKeyVerifier.Hash(secret),
            Prefix = secret[..ShownPrefixLength],
            CreatedById = adminId,
            CreatedAt = time.GetUtcNow(),
        };
        db.WorkerKeys.Add(key);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Two admins chose the same name at once; the unique index kept one.
            return new WorkerKeyCreation(null, $"A key named \"{name}\" exists already.");
        }
        LogCreated(adminId, name, key.Prefix);
        return new WorkerKeyCreation(new WorkerKeyCreated(Summary(key), secret), $"Key \"{name}\" created. Copy it now: it is shown only this once.");
    }

    /// <summary>Revokes key <paramref name="keyId"/> and disconnects the workers using it; false when there is no such key or it was revoked already.</summary>
    public async Task<bool> RevokeAsync(ClaimsPrincipal admin, Guid keyId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var adminId = await DemandAdminAsync(db, admin, cancellationToken);
        var key = await db.WorkerKeys.SingleOrDefaultAsync(k => k.Id == keyId, cancellationToken);
        if (key is null || key.RevokedAt is not null)
        {
            return false;
        }
        key.RevokedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        var disconnected = connections.Disconnect(key.Id.ToString("N"));
        // Workers connected to other nodes with it are disconnected there (WorkerKeyRevocations).
        cluster.Publish(ClusterChannels.WorkerKeys, new WorkerKeyRevoked(key.Id.ToString("N")));
        LogRevoked(adminId, key.Name, disconnected);
        return true;
    }

    private static async Task<string> DemandAdminAsync(AppDbContext db, ClaimsPrincipal admin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(admin);
        var userId = admin.FindFirstValue(ClaimTypes.NameIdentifier);
        // The role is read from the database, not the principal's claims: a demoted admin loses this at once.
        if (userId is null || !await db.AdminUserIds().AnyAsync(id => id == userId, cancellationToken))
        {
            throw new UnauthorizedAccessException("Only an admin may manage worker keys.");
        }
        return userId;
    }

    private static WorkerKeySummary Summary(WorkerKey key) =>
        new(key.Id, key.Name, key.Prefix, key.CreatedAt, key.LastUsedAt, key.RevokedAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin {AdminId} created worker key {Name} ({Prefix}…)")]
    private partial void LogCreated(string adminId, string name, string prefix);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admin {AdminId} revoked worker key {Name}; {Disconnected} worker(s) disconnected")]
    private partial void LogRevoked(string adminId, string name, int disconnected);
}

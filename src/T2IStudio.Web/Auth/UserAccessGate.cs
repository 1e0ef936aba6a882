using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Web.Cluster;

namespace T2IStudio.Web.Auth;

/// <summary>
/// Answers "may this account act now?" for every HTTP request and every circuit event.
/// A disabled or deleted account is refused at its next action, not at the next revalidation.
/// Answers are cached briefly per process; a change made through <see cref="AccountAdministration"/>
/// updates the cache at once, on this node and (through <see cref="ClusterChannels.Access"/>) on every other.
/// </summary>
public sealed class UserAccessGate : IDisposable
{
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, (bool Allowed, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);
    private readonly IDbContextFactory<AppDbContext> _dbFactory;
    private readonly IClusterBus _cluster;
    private readonly TimeProvider _time;
    private readonly IDisposable _fromOtherNodes;
    private long _changes;

    /// <summary>Listens for the other nodes' changes from the start.</summary>
    public UserAccessGate(IDbContextFactory<AppDbContext> dbFactory, IClusterBus cluster, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        _dbFactory = dbFactory;
        _cluster = cluster;
        _time = time;
        _fromOtherNodes = cluster.Subscribe<AccessSignal>(ClusterChannels.Access, signal =>
        {
            Store(signal.UserId, signal.Allowed);
            return Task.CompletedTask;
        });
    }

    /// <summary>True when the account exists and is not disabled.</summary>
    public async ValueTask<bool> IsAllowedAsync(string userId, CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(userId, out var entry) && entry.Until > now)
        {
            return entry.Allowed;
        }
        var changesBefore = Interlocked.Read(ref _changes);
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var disabled = await db.Users.Where(u => u.Id == userId).Select(u => (bool?)u.IsDisabled).SingleOrDefaultAsync(cancellationToken);
        var allowed = disabled == false;
        if (Interlocked.Read(ref _changes) != changesBefore && _cache.TryGetValue(userId, out var told) && told.Until > now)
        {
            // A change was remembered while the database was read (perhaps before it committed): it wins.
            return told.Allowed;
        }
        _cache[userId] = (allowed, now + CacheLifetime);
        return allowed;
    }

    /// <summary>
    /// Records a change of an account's status so the next check sees it without waiting for the cache, here and on
    /// every other node.
    /// </summary>
    public void Remember(string userId, bool allowed)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        Store(userId, allowed);
        _cluster.Publish(ClusterChannels.Access, new AccessSignal(userId, allowed));
    }

    /// <inheritdoc />
    public void Dispose() => _fromOtherNodes.Dispose();

    private void Store(string userId, bool allowed)
    {
        _cache[userId] = (allowed, _time.GetUtcNow() + CacheLifetime);
        Interlocked.Increment(ref _changes);
    }

    /// <summary>Cookie validation: the security stamp check, then the disabled check; a refused cookie is removed.</summary>
    internal static async Task ValidatePrincipalAsync(CookieValidatePrincipalContext context)
    {
        await SecurityStampValidator.ValidatePrincipalAsync(context);
        var userId = context.Principal?.FindFirstValue(ClaimTypes.NameIdentifier);
        if (userId is null)
        {
            return;
        }
        var gate = context.HttpContext.RequestServices.GetRequiredService<UserAccessGate>();
        if (!await gate.IsAllowedAsync(userId, context.HttpContext.RequestAborted))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(IdentityConstants.ApplicationScheme);
        }
    }
}

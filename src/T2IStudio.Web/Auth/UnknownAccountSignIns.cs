using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Auth;

/// <summary>
/// Sign-ins for emails that have no account get the same work and the same answers as a real account: a password
/// hash is verified (against a dummy hash made with the same settings), failures are counted, and after
/// <c>Lockout.MaxFailedAccessAttempts</c> the email reads as locked out for the lockout span. So neither the time
/// taken nor the message tells which emails have accounts. Counts live in memory, capped in size.
/// </summary>
public sealed class UnknownAccountSignIns(IOptions<IdentityOptions> identityOptions, TimeProvider time)
{
    /// <summary>The most emails tracked; past it, stale entries go first, then everything.</summary>
    public const int MaxTracked = 10_000;

    private readonly ConcurrentDictionary<string, Attempts> _attempts = new(StringComparer.Ordinal);
    private string? _dummyHash;

    /// <summary>True while <paramref name="normalizedName"/> reads as locked out.</summary>
    public bool IsLockedOut(string normalizedName) =>
        _attempts.TryGetValue(normalizedName, out var entry) && entry.LockedUntil > time.GetUtcNow();

    /// <summary>Verifies <paramref name="password"/> against a dummy hash: the work a real account's check costs.</summary>
    public void VerifyDummy(IPasswordHasher<AppUser> hasher, string password)
    {
        ArgumentNullException.ThrowIfNull(hasher);
        var dummy = new AppUser();
        var hash = LazyInitializer.EnsureInitialized(ref _dummyHash, () => hasher.HashPassword(dummy, Convert.ToBase64String(RandomNumberGenerator.GetBytes(24))));
        _ = hasher.VerifyHashedPassword(dummy, hash, password ?? "");
    }

    /// <summary>Counts a failure; true when this failure locks the email out, as Identity does for an account.</summary>
    public bool RecordFailure(string normalizedName)
    {
        var lockout = identityOptions.Value.Lockout;
        var now = time.GetUtcNow();
        if (_attempts.Count >= MaxTracked)
        {
            Prune(now, lockout.DefaultLockoutTimeSpan);
        }
        var updated = _attempts.AddOrUpdate(normalizedName,
            _ => Next(new Attempts(0, DateTimeOffset.MinValue, now), now, lockout),
            (_, previous) => Next(previous, now, lockout));
        return updated.LockedUntil > now;
    }

    private static Attempts Next(Attempts previous, DateTimeOffset now, LockoutOptions lockout)
    {
        var failures = previous.Failures + 1;
        return failures >= lockout.MaxFailedAccessAttempts
            ? new Attempts(0, now + lockout.DefaultLockoutTimeSpan, now) // Identity also resets the count when it locks
            : new Attempts(failures, previous.LockedUntil, now);
    }

    private void Prune(DateTimeOffset now, TimeSpan span)
    {
        foreach (var (key, entry) in _attempts)
        {
            if (entry.LockedUntil <= now && now - entry.LastFailure > span)
            {
                _attempts.TryRemove(key, out _);
            }
        }
        if (_attempts.Count >= MaxTracked)
        {
            _attempts.Clear();
        }
    }

    private sealed record Attempts(int Failures, DateTimeOffset LockedUntil, DateTimeOffset LastFailure);
}

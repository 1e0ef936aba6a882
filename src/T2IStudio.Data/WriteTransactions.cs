using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace T2IStudio.Data;

/// <summary>
/// What a write transaction serialises with: decisions that read rows and then insert ("is this the first
/// account?", "is this person's queue full?") must not interleave with another writer of the same kind.
/// </summary>
public enum WriteScope
{
    /// <summary>Registration: who is first, who is invited.</summary>
    Registration = 1,

    /// <summary>The generation queue: per-person and per-token limits with the insert.</summary>
    Queue = 2,

    /// <summary>Teams: memberships, roles, the last owner, invitations.</summary>
    Teams = 3,
}

/// <summary>Write transactions that serialise the same way on SQLite and PostgreSQL.</summary>
public static class WriteTransactions
{
    // A constant of our own in the first key of pg_advisory_xact_lock(int, int): "T2IS".
    private const int AdvisoryLockSpace = 0x54324953;

    /// <summary>
    /// Begins a transaction in which the reads and the writes of <paramref name="scope"/> are one step for
    /// every node: SQLite's <c>BEGIN IMMEDIATE</c> (the database's one write lock, taken at once), or on PostgreSQL
    /// a transaction holding the advisory lock of <paramref name="scope"/> until it ends (other writers of that
    /// scope wait; readers and other scopes do not).
    /// </summary>
    public static async Task<IDbContextTransaction> BeginWriteTransactionAsync(this DatabaseFacade database, WriteScope scope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        // Microsoft.Data.Sqlite begins IMMEDIATE (not deferred) unless asked otherwise.
        var transaction = await database.BeginTransactionAsync(cancellationToken);
        if (database.IsNpgsql())
        {
            try
            {
                await database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({AdvisoryLockSpace}, {(int)scope})", cancellationToken);
            }
            catch
            {
                await transaction.DisposeAsync();
                throw;
            }
        }
        return transaction;
    }

    /// <summary>True for errors of the database engine itself (gone, locked, refused), of either provider.</summary>
    public static bool IsDatabaseFailure(Exception exception) =>
        exception is DbException or DbUpdateException or TimeoutException
        || exception is InvalidOperationException { InnerException: DbException or TimeoutException };
}

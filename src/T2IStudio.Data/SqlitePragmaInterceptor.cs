using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace T2IStudio.Data;

/// <summary>
/// Sets the per-connection pragmas on every connection EF Core opens: a busy timeout so concurrent
/// writers wait instead of failing, and <c>synchronous=FULL</c> so a committed row survives a power cut.
/// WAL is a property of the database file and is set once at start (see <see cref="StudioDatabase"/>).
/// </summary>
internal sealed class SqlitePragmaInterceptor(int busyTimeoutMs) : DbConnectionInterceptor
{
    private readonly string _pragmas = $"PRAGMA busy_timeout={busyTimeoutMs}; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = _pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = _pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

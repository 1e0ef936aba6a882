using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace T2IStudio.Data.Postgres;

/// <summary>
/// Lets <c>dotnet ef migrations add NAME --project src/T2IStudio.Data.Postgres</c> build the PostgreSQL model
/// without a server (no connection is opened to add a migration).
/// </summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<AppDbContext>
{
    public AppDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<AppDbContext>();
        DataServiceExtensions.UsePostgres(options, "Host=localhost;Database=t2istudio_design");
        return new AppDbContext(options.Options);
    }
}

using System.ComponentModel.DataAnnotations;

namespace T2IStudio.Data;

/// <summary>Which database engine holds T2I Studio's rows.</summary>
public enum DatabaseProvider
{
    /// <summary>The embedded default: one file under <c>Storage:Root</c>, one machine.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server (<c>ConnectionStrings:Postgres</c>), shared by any number of web nodes.</summary>
    Postgres,
}

/// <summary>The database settings (section <c>Database</c>, plus <c>ConnectionStrings:Postgres</c>).</summary>
public sealed record DatabaseOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string Section = "Database";

    /// <summary>The connection string name read when <see cref="Provider"/> is <c>postgres</c>.</summary>
    public const string PostgresConnectionName = "Postgres";

    /// <summary><c>sqlite</c> (the default) or <c>postgres</c>.</summary>
    public string Provider { get; init; } = "sqlite";

    /// <summary><c>ConnectionStrings:Postgres</c>, bound beside the section.</summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>The provider named by <see cref="Provider"/>; call after validation.</summary>
    public DatabaseProvider Engine => Parse(Provider) ?? DatabaseProvider.Sqlite;

    /// <summary>Reads a provider name (case-insensitive): <c>sqlite</c> or <c>postgres</c> (also <c>postgresql</c>).</summary>
    public static DatabaseProvider? Parse(string? name) => name?.Trim().ToUpperInvariant() switch
    {
        "SQLITE" => DatabaseProvider.Sqlite,
        "POSTGRES" or "POSTGRESQL" or "NPGSQL" => DatabaseProvider.Postgres,
        _ => null,
    };

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var engine = Parse(Provider);
        if (engine is null)
        {
            yield return new ValidationResult($"Database:Provider must be sqlite or postgres, not '{Provider}'.", [nameof(Provider)]);
        }
        else if (engine == DatabaseProvider.Postgres && string.IsNullOrWhiteSpace(PostgresConnectionString))
        {
            yield return new ValidationResult(
                "Database:Provider is postgres but ConnectionStrings:Postgres is empty. Set it, e.g. ConnectionStrings__Postgres=\"Host=db;Database=t2istudio;Username=t2i;Password=…\".",
                [nameof(PostgresConnectionString)]);
        }
    }
}

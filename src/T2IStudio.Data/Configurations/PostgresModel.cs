using Microsoft.EntityFrameworkCore;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data.Configurations;

/// <summary>
/// Where PostgreSQL needs other SQL than SQLite: identifiers in raw SQL fragments are quoted (PostgreSQL folds
/// unquoted names to lower case). The SQLite model, and so its migrations, stay as they were.
/// </summary>
internal static class PostgresModel
{
    public static void Apply(ModelBuilder builder)
    {
        builder.Entity<Job>().HasIndex(j => new { j.OwnerId, j.IdempotencyKey }).IsUnique().HasFilter("\"IdempotencyKey\" IS NOT NULL");
        builder.Entity<Gallery>().ToTable("Galleries", t => t.HasCheckConstraint("CK_Galleries_OneOwner", "(\"OwnerUserId\" IS NULL) <> (\"TeamId\" IS NULL)"));
        // PostgreSQL enforces lengths SQLite only records. The remembered Create settings are JSON whose escaping
        // (\uXXXX for each non-ASCII character) can make two long prompts far longer than 8000 characters; a token's
        // selected model is any model id, which jobs allow up to 200 characters.
        builder.Entity<Style>().ToTable("Styles", t => t.HasCheckConstraint("CK_Styles_OneOwner", "(\"OwnerUserId\" IS NULL) <> (\"TeamId\" IS NULL)"));
        builder.Entity<AppUser>().Property(u => u.CreateSettingsJson).HasColumnType("text");
        builder.Entity<ApiToken>().Property(t => t.Model).HasMaxLength(200);
    }
}

using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data.Configurations;

internal sealed class ApiTokenConfiguration : IEntityTypeConfiguration<ApiToken>
{
    public void Configure(EntityTypeBuilder<ApiToken> builder)
    {
        builder.ToTable("ApiTokens");
        builder.Property(t => t.OwnerId).HasMaxLength(450).IsRequired();
        builder.Property(t => t.Name).HasMaxLength(100).IsRequired();
        builder.Property(t => t.SecretHash).HasMaxLength(64).IsRequired();
        builder.Property(t => t.Prefix).HasMaxLength(16).IsRequired();
        builder.Property(t => t.RevokedById).HasMaxLength(450);
        builder.Property(t => t.Model).HasMaxLength(100);
        builder.Property(t => t.CreatedAt).HasConversion(UtcTicks.Converter);
        builder.Property(t => t.ExpiresAt).HasConversion(UtcTicks.NullableConverter);
        builder.Property(t => t.LastUsedAt).HasConversion(UtcTicks.NullableConverter);
        builder.Property(t => t.RevokedAt).HasConversion(UtcTicks.NullableConverter);
        builder.HasIndex(t => t.SecretHash).IsUnique();
        builder.HasIndex(t => new { t.OwnerId, t.CreatedAt });
        builder.HasOne(t => t.Owner).WithMany().HasForeignKey(t => t.OwnerId).OnDelete(DeleteBehavior.Cascade);
    }
}

using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data.Configurations;

internal sealed class WorkerKeyConfiguration : IEntityTypeConfiguration<WorkerKey>
{
    public void Configure(EntityTypeBuilder<WorkerKey> builder)
    {
        builder.ToTable("WorkerKeys");
        builder.Property(k => k.Name).HasMaxLength(100).IsRequired();
        builder.Property(k => k.KeyHash).HasMaxLength(64).IsRequired();
        builder.Property(k => k.Prefix).HasMaxLength(16).IsRequired();
        builder.Property(k => k.CreatedById).HasMaxLength(450).IsRequired();
        builder.Property(k => k.CreatedAt).HasConversion(UtcTicks.Converter);
        builder.Property(k => k.LastUsedAt).HasConversion(UtcTicks.NullableConverter);
        builder.Property(k => k.RevokedAt).HasConversion(UtcTicks.NullableConverter);
        builder.HasIndex(k => k.KeyHash).IsUnique();
        builder.HasIndex(k => k.Name).IsUnique();
    }
}

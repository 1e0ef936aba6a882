using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data.Configurations;

internal sealed class AppUserConfiguration : IEntityTypeConfiguration<AppUser>
{
    public void Configure(EntityTypeBuilder<AppUser> builder)
    {
        builder.Property(u => u.DisplayName).HasMaxLength(100).IsRequired();
        // SQLite cannot order by DateTimeOffset natively; store UTC ticks so "first account" is a plain ORDER BY.
        builder.Property(u => u.CreatedAt)
            .HasConversion(v => v.UtcTicks, v => new DateTimeOffset(v, TimeSpan.Zero));
        builder.HasIndex(u => u.CreatedAt);
        builder.Property(u => u.CreateSettingsJson).HasMaxLength(8000);
    }
}

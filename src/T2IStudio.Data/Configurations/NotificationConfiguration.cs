using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data.Configurations;

internal sealed class NotificationConfiguration : IEntityTypeConfiguration<Notification>
{
    public void Configure(EntityTypeBuilder<Notification> builder)
    {
        builder.ToTable("Notifications");
        builder.Property(n => n.Text).HasMaxLength(500).IsRequired();
        builder.Property(n => n.Link).HasMaxLength(300);
        builder.Property(n => n.CreatedAt).HasConversion(UtcTicks.Converter);
        builder.Property(n => n.ReadAt).HasConversion(UtcTicks.NullableConverter);
        builder.HasOne<AppUser>().WithMany().HasForeignKey(n => n.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(n => new { n.UserId, n.CreatedAt });
    }
}

internal sealed class StudioSettingConfiguration : IEntityTypeConfiguration<StudioSetting>
{
    public void Configure(EntityTypeBuilder<StudioSetting> builder)
    {
        builder.ToTable("StudioSettings");
        builder.HasKey(s => s.Key);
        builder.Property(s => s.Key).HasMaxLength(100);
        builder.Property(s => s.Value).IsRequired();
        builder.Property(s => s.UpdatedAt).HasConversion(UtcTicks.Converter);
    }
}

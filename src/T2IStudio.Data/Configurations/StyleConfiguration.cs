using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data.Configurations;

internal sealed class StyleConfiguration : IEntityTypeConfiguration<Style>
{
    public void Configure(EntityTypeBuilder<Style> builder)
    {
        builder.ToTable("Styles", t => t.HasCheckConstraint("CK_Styles_OneOwner", "(OwnerUserId IS NULL) <> (TeamId IS NULL)"));
        builder.Property(s => s.Name).HasMaxLength(80).IsRequired();
        builder.Property(s => s.Prompt).HasMaxLength(2000).IsRequired();
        builder.Property(s => s.NegativePrompt).HasMaxLength(2000).IsRequired();
        builder.Property(s => s.Model).HasMaxLength(200);
        builder.Property(s => s.Scheduler).HasMaxLength(40);
        builder.Property(s => s.CreatedById).HasMaxLength(450).IsRequired();
        builder.Property(s => s.CreatedAt).HasConversion(UtcTicks.Converter);
        builder.Property(s => s.UpdatedAt).HasConversion(UtcTicks.Converter);
        builder.Property(s => s.ConcurrencyStamp).IsConcurrencyToken();
        builder.HasOne<AppUser>().WithMany().HasForeignKey(s => s.OwnerUserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(s => s.Team).WithMany().HasForeignKey(s => s.TeamId).OnDelete(DeleteBehavior.Cascade);
        // Names are unique per owner (NULLs are distinct, so each index binds only its own kind of owner).
        builder.HasIndex(s => new { s.OwnerUserId, s.Name }).IsUnique();
        builder.HasIndex(s => new { s.TeamId, s.Name }).IsUnique();
    }
}

using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data.Configurations;

internal sealed class SavedPromptConfiguration : IEntityTypeConfiguration<SavedPrompt>
{
    public void Configure(EntityTypeBuilder<SavedPrompt> builder)
    {
        builder.ToTable("Prompts");
        builder.Property(p => p.OwnerId).IsRequired();
        builder.HasOne(p => p.Owner).WithMany().HasForeignKey(p => p.OwnerId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(p => p.Text).HasMaxLength(4000).IsRequired();
        builder.Property(p => p.NegativeText).HasMaxLength(4000).IsRequired();
        builder.Property(p => p.Hash).HasMaxLength(64).IsRequired();
        builder.Property(p => p.CreatedAt).HasConversion(UtcTicks.Converter);
        builder.Property(p => p.LastUsedAt).HasConversion(UtcTicks.Converter);
        builder.HasIndex(p => new { p.OwnerId, p.Hash }).IsUnique();
        builder.HasIndex(p => new { p.OwnerId, p.LastUsedAt });
    }
}

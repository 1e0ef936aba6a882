using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data.Configurations;

internal sealed class GeneratedImageConfiguration : IEntityTypeConfiguration<GeneratedImage>
{
    public void Configure(EntityTypeBuilder<GeneratedImage> builder)
    {
        builder.ToTable("Images");
        builder.Property(i => i.OwnerId).IsRequired();
        builder.HasOne(i => i.Owner).WithMany().HasForeignKey(i => i.OwnerId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(i => i.Job).WithMany(j => j.Images).HasForeignKey(i => i.JobId).OnDelete(DeleteBehavior.Cascade);
        // Seeds use all 64 bits; SQLite integers are signed, so store the same bits as a long.
        builder.Property(i => i.Seed).HasConversion(v => unchecked((long)v), v => unchecked((ulong)v));
        builder.Property(i => i.Model).HasMaxLength(200).IsRequired();
        builder.Property(i => i.ModelHash).HasMaxLength(64);
        builder.Property(i => i.Prompt).HasMaxLength(4000).IsRequired();
        builder.Property(i => i.NegativePrompt).HasMaxLength(4000).IsRequired();
        builder.Property(i => i.Sha256).HasMaxLength(64).IsRequired();
        builder.Property(i => i.CreatedAt).HasConversion(UtcTicks.Converter);
        builder.Property(i => i.RemovedByOwnerAt).HasConversion(UtcTicks.NullableConverter);
        builder.HasIndex(i => i.FileKey).IsUnique();
        builder.HasIndex(i => new { i.OwnerId, i.CreatedAt });
        builder.HasIndex(i => new { i.OwnerId, i.Model });
        // Lineage: a child keeps its parent's id even after the parent is deleted (it then reads as missing).
        builder.HasIndex(i => i.ParentImageId);
    }
}

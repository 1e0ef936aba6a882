using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data.Configurations;

internal sealed class GalleryConfiguration : IEntityTypeConfiguration<Gallery>
{
    public void Configure(EntityTypeBuilder<Gallery> builder)
    {
        builder.ToTable("Galleries", t => t.HasCheckConstraint("CK_Galleries_OneOwner", "(OwnerUserId IS NULL) <> (TeamId IS NULL)"));
        builder.Property(g => g.Name).HasMaxLength(80).IsRequired();
        builder.Property(g => g.CreatedAt).HasConversion(UtcTicks.Converter);
        builder.HasOne(g => g.OwnerUser).WithMany().HasForeignKey(g => g.OwnerUserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(g => g.Team).WithMany().HasForeignKey(g => g.TeamId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(g => g.Items).WithOne(i => i.Gallery).HasForeignKey(i => i.GalleryId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(g => g.OwnerUserId);
        builder.HasIndex(g => g.TeamId);
    }
}

internal sealed class GalleryItemConfiguration : IEntityTypeConfiguration<GalleryItem>
{
    public void Configure(EntityTypeBuilder<GalleryItem> builder)
    {
        builder.ToTable("GalleryItems");
        builder.HasKey(i => new { i.GalleryId, i.ImageId });
        builder.HasOne(i => i.Image).WithMany().HasForeignKey(i => i.ImageId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(i => i.AddedById).IsRequired();
        builder.Property(i => i.AddedAt).HasConversion(UtcTicks.Converter);
        builder.Property(i => i.ReviewedById).HasMaxLength(450);
        builder.Property(i => i.ReviewedAt).HasConversion(UtcTicks.NullableConverter);
        // "Which galleries hold this image" decides who may read it.
        builder.HasIndex(i => i.ImageId);
        builder.HasIndex(i => new { i.GalleryId, i.AddedAt });
    }
}

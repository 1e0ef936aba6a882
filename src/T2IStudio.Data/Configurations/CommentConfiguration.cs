using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data.Configurations;

internal sealed class CommentConfiguration : IEntityTypeConfiguration<Comment>
{
    public void Configure(EntityTypeBuilder<Comment> builder)
    {
        builder.ToTable("Comments");
        builder.Property(c => c.Text).HasMaxLength(2000).IsRequired();
        builder.HasOne(c => c.Image).WithMany().HasForeignKey(c => c.ImageId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(c => c.Author).WithMany().HasForeignKey(c => c.AuthorId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(c => c.CreatedAt).HasConversion(UtcTicks.Converter);
        builder.Property(c => c.EditedAt).HasConversion(UtcTicks.NullableConverter);
        builder.HasIndex(c => new { c.ImageId, c.CreatedAt });
        builder.HasOne(c => c.Gallery).WithMany().HasForeignKey(c => c.GalleryId).OnDelete(DeleteBehavior.SetNull);
    }
}

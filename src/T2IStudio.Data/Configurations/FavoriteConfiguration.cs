using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data.Configurations;

internal sealed class FavoriteConfiguration : IEntityTypeConfiguration<Favorite>
{
    public void Configure(EntityTypeBuilder<Favorite> builder)
    {
        builder.ToTable("Favorites");
        builder.HasKey(f => new { f.UserId, f.ImageId });
        builder.HasOne<AppUser>().WithMany().HasForeignKey(f => f.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(f => f.Image).WithMany().HasForeignKey(f => f.ImageId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(f => f.CreatedAt).HasConversion(UtcTicks.Converter);
        builder.HasIndex(f => f.ImageId);
    }
}

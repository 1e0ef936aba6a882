using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data.Configurations;

internal sealed class TeamActivityConfiguration : IEntityTypeConfiguration<TeamActivity>
{
    public void Configure(EntityTypeBuilder<TeamActivity> builder)
    {
        builder.ToTable("TeamActivities");
        builder.Property(a => a.At).HasConversion(UtcTicks.Converter);
        builder.HasOne<Team>().WithMany().HasForeignKey(a => a.TeamId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(a => a.Actor).WithMany().HasForeignKey(a => a.ActorId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Gallery>().WithMany().HasForeignKey(a => a.GalleryId).OnDelete(DeleteBehavior.SetNull);
        builder.HasOne<GeneratedImage>().WithMany().HasForeignKey(a => a.ImageId).OnDelete(DeleteBehavior.SetNull);
        builder.Property(a => a.GalleryName).HasMaxLength(80);
        builder.Property(a => a.SubjectUserId).HasMaxLength(450);
        builder.Property(a => a.Detail).HasMaxLength(200);
        // The feed pages newest first within a team.
        builder.HasIndex(a => new { a.TeamId, a.At });
    }
}

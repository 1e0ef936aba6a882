using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data.Configurations;

internal sealed class TeamConfiguration : IEntityTypeConfiguration<Team>
{
    public void Configure(EntityTypeBuilder<Team> builder)
    {
        builder.ToTable("Teams");
        builder.Property(t => t.Name).HasMaxLength(80).IsRequired();
        builder.Property(t => t.CreatedAt).HasConversion(UtcTicks.Converter);
        builder.Property(t => t.ConcurrencyStamp).IsConcurrencyToken();
        builder.Property(t => t.AllowedModels).HasConversion(ModelIdList.Converter, ModelIdList.Comparer);
        builder.HasMany(t => t.Members).WithOne(m => m.Team).HasForeignKey(m => m.TeamId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class TeamMemberConfiguration : IEntityTypeConfiguration<TeamMember>
{
    public void Configure(EntityTypeBuilder<TeamMember> builder)
    {
        builder.ToTable("TeamMembers");
        builder.HasKey(m => new { m.TeamId, m.UserId });
        builder.HasOne(m => m.User).WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(m => m.JoinedAt).HasConversion(UtcTicks.Converter);
        // "My teams" looks members up by user.
        builder.HasIndex(m => m.UserId);
    }
}

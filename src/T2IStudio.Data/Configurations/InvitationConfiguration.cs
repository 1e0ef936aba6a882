using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data.Configurations;

internal sealed class TeamInvitationConfiguration : IEntityTypeConfiguration<TeamInvitation>
{
    public void Configure(EntityTypeBuilder<TeamInvitation> builder)
    {
        builder.ToTable("TeamInvitations");
        builder.Property(i => i.Email).HasMaxLength(256).IsRequired();
        builder.Property(i => i.NormalizedEmail).HasMaxLength(256).IsRequired();
        builder.Property(i => i.InvitedAt).HasConversion(UtcTicks.Converter);
        builder.HasOne(i => i.Team).WithMany().HasForeignKey(i => i.TeamId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(i => i.InvitedBy).WithMany().HasForeignKey(i => i.InvitedById).OnDelete(DeleteBehavior.Cascade);
        // One pending invitation per person and team; "my invitations" looks them up by email.
        builder.HasIndex(i => new { i.TeamId, i.NormalizedEmail }).IsUnique();
        builder.HasIndex(i => i.NormalizedEmail);
        builder.HasIndex(i => i.InvitedById);
    }
}

internal sealed class InviteLinkConfiguration : IEntityTypeConfiguration<InviteLink>
{
    public void Configure(EntityTypeBuilder<InviteLink> builder)
    {
        builder.ToTable("InviteLinks");
        builder.Property(l => l.TokenHash).HasMaxLength(64).IsRequired();
        builder.Property(l => l.CreatedById).HasMaxLength(450).IsRequired();
        builder.Property(l => l.UsedById).HasMaxLength(450);
        builder.Property(l => l.CreatedAt).HasConversion(UtcTicks.Converter);
        builder.Property(l => l.ExpiresAt).HasConversion(UtcTicks.Converter);
        builder.Property(l => l.UsedAt).HasConversion(UtcTicks.NullableConverter);
        builder.HasIndex(l => l.TokenHash).IsUnique();
    }
}

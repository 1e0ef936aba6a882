using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data.Configurations;

internal sealed class JobConfiguration : IEntityTypeConfiguration<Job>
{
    public void Configure(EntityTypeBuilder<Job> builder)
    {
        builder.ToTable("Jobs");
        builder.Property(j => j.OwnerId).IsRequired();
        builder.HasOne(j => j.Owner).WithMany().HasForeignKey(j => j.OwnerId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(j => j.Model).HasMaxLength(200).IsRequired();
        builder.Property(j => j.Prompt).HasMaxLength(4000).IsRequired();
        builder.Property(j => j.IdempotencyKey).HasMaxLength(64);
        builder.Property(j => j.Error).HasMaxLength(4000);
        builder.Property(j => j.CreatedAt).HasConversion(UtcTicks.Converter);
        builder.Property(j => j.StartedAt).HasConversion(UtcTicks.NullableConverter);
        builder.Property(j => j.FinishedAt).HasConversion(UtcTicks.NullableConverter);
        builder.Property(j => j.LeaseWorkerId).HasMaxLength(100);
        builder.Property(j => j.LeaseExpiresAt).HasConversion(UtcTicks.NullableConverter);
        builder.Property(j => j.WorkerName).HasMaxLength(100);
        builder.Property(j => j.ConcurrencyStamp).IsConcurrencyToken();
        builder.Ignore(j => j.IsFinished);
        // The dispatcher loads waiting jobs in submit order; pages list a user's jobs newest first.
        builder.HasIndex(j => new { j.Status, j.CreatedAt });
        builder.HasIndex(j => new { j.OwnerId, j.CreatedAt });
        // The AUTOMATIC1111 API's progress and interrupt act on the token's own jobs.
        builder.HasOne<ApiToken>().WithMany().HasForeignKey(j => j.ApiTokenId).OnDelete(DeleteBehavior.SetNull);
        builder.HasIndex(j => new { j.ApiTokenId, j.Status });
        // A team's daily budget counts the images of today's jobs that save into its galleries.
        builder.HasOne<Team>().WithMany().HasForeignKey(j => j.TeamId).OnDelete(DeleteBehavior.SetNull);
        builder.HasIndex(j => new { j.TeamId, j.CreatedAt });
        builder.HasIndex(j => new { j.OwnerId, j.IdempotencyKey }).IsUnique().HasFilter("IdempotencyKey IS NOT NULL");
    }
}

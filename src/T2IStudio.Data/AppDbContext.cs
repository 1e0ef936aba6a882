using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data.Configurations;
using T2IStudio.Data.Entities;

namespace T2IStudio.Data;

/// <summary>The studio's database: Identity tables plus the product's entities.</summary>
public sealed class AppDbContext(DbContextOptions<AppDbContext> options) : IdentityDbContext<AppUser>(options), IDataProtectionKeyContext
{
    /// <summary>The role whose members see the Admin page.</summary>
    public const string AdminRole = "Admin";

    /// <summary>The ids of the accounts in the Admin role, as the database says now (not a cookie's claims).</summary>
    public IQueryable<string> AdminUserIds() =>
        from ur in UserRoles
        join r in Roles on ur.RoleId equals r.Id
        where r.Name == AdminRole
        select ur.UserId;

    /// <summary>Generation jobs.</summary>
    public DbSet<Job> Jobs => Set<Job>();

    /// <summary>Stored images.</summary>
    public DbSet<GeneratedImage> Images => Set<GeneratedImage>();

    /// <summary>Teams.</summary>
    public DbSet<Team> Teams => Set<Team>();

    /// <summary>Team memberships.</summary>
    public DbSet<TeamMember> TeamMembers => Set<TeamMember>();

    /// <summary>Pending invitations to teams.</summary>
    public DbSet<TeamInvitation> TeamInvitations => Set<TeamInvitation>();

    /// <summary>Administrators' single-use registration links.</summary>
    public DbSet<InviteLink> InviteLinks => Set<InviteLink>();

    /// <summary>Named galleries, private or a team's.</summary>
    public DbSet<Gallery> Galleries => Set<Gallery>();

    /// <summary>Images in galleries.</summary>
    public DbSet<GalleryItem> GalleryItems => Set<GalleryItem>();

    /// <summary>Per-person stars on images.</summary>
    public DbSet<Favorite> Favorites => Set<Favorite>();

    /// <summary>Comments on images.</summary>
    public DbSet<Comment> Comments => Set<Comment>();

    /// <summary>Prompt history.</summary>
    public DbSet<SavedPrompt> Prompts => Set<SavedPrompt>();

    /// <summary>Named keys remote workers join with (stored hashed).</summary>
    public DbSet<WorkerKey> WorkerKeys => Set<WorkerKey>();

    /// <summary>Personal access tokens for the API (stored hashed).</summary>
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

    /// <summary>Named prompt fragments, a person's or a team's.</summary>
    public DbSet<Style> Styles => Set<Style>();

    /// <summary>What happened in each team, for its Activity tab.</summary>
    public DbSet<TeamActivity> TeamActivities => Set<TeamActivity>();

    /// <summary>What people were told and have not all read yet.</summary>
    public DbSet<Notification> Notifications => Set<Notification>();

    /// <summary>Server-wide settings admins change in the app.</summary>
    public DbSet<StudioSetting> StudioSettings => Set<StudioSetting>();

    /// <summary>
    /// The data-protection keys that sign cookies and antiforgery tokens, when they are kept in the database (on
    /// PostgreSQL, so every web node reads the same keys); on SQLite they stay under <c>Storage:Root/keys</c>.
    /// </summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(AppDbContext).Assembly);
        if (Database.IsNpgsql())
        {
            PostgresModel.Apply(builder);
        }
    }
}

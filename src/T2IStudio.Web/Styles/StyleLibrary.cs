using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Access;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;

namespace T2IStudio.Web.Styles;

/// <summary>A style as the picker and the style lists show it.</summary>
/// <param name="Id">The style.</param>
/// <param name="Name">Its name.</param>
/// <param name="Prompt">Its prompt fragment (with or without <c>{prompt}</c>).</param>
/// <param name="NegativePrompt">Its negative fragment.</param>
/// <param name="TeamId">The team that owns it; null for one of the reader's own.</param>
/// <param name="Owner">Whose it is in words: "My styles" or the team's name.</param>
/// <param name="CanManage">The reader may change and delete it (its owner, or a team editor or owner).</param>
/// <param name="Model">Default model id, if set.</param>
/// <param name="Scheduler">Default sampler, if set (and still one the engine knows).</param>
/// <param name="Steps">Default steps, if set.</param>
/// <param name="Guidance">Default guidance, if set.</param>
/// <param name="Width">Default width, if set.</param>
/// <param name="Height">Default height, if set.</param>
/// <param name="ConcurrencyStamp">The version read, handed back with a change.</param>
public sealed record StyleView(Guid Id, string Name, string Prompt, string NegativePrompt, Guid? TeamId, string Owner, bool CanManage,
    string? Model, SchedulerKind? Scheduler, int? Steps, double? Guidance, int? Width, int? Height, Guid ConcurrencyStamp)
{
    /// <summary>Whether the style sets any default parameter.</summary>
    public bool HasDefaults => Model is not null || Scheduler is not null || Steps is not null || Guidance is not null || Width is not null || Height is not null;
}

/// <summary>The styles of one owner: the reader's own ("My styles") or one of their teams'.</summary>
/// <param name="Label">"My styles" or the team's name.</param>
/// <param name="TeamId">The team; null for the reader's own.</param>
/// <param name="CanManage">The reader may add styles here.</param>
/// <param name="Styles">Its styles, by name.</param>
public sealed record StyleGroup(string Label, Guid? TeamId, bool CanManage, IReadOnlyList<StyleView> Styles);

/// <summary>A style as its editor form holds it.</summary>
public sealed class StyleDraft
{
    /// <summary>Its name (1–80 characters, unique ignoring case among its owner's styles).</summary>
    public string Name { get; set; } = "";

    /// <summary>Its prompt fragment; <c>{prompt}</c> at most once marks where the person's prompt goes.</summary>
    public string Prompt { get; set; } = "";

    /// <summary>Its negative fragment.</summary>
    public string NegativePrompt { get; set; } = "";

    /// <summary>Default model id, or null.</summary>
    public string? Model { get; set; }

    /// <summary>Default sampler, or null.</summary>
    public SchedulerKind? Scheduler { get; set; }

    /// <summary>Default steps, or null.</summary>
    public int? Steps { get; set; }

    /// <summary>Default guidance, or null.</summary>
    public double? Guidance { get; set; }

    /// <summary>Default width, or null.</summary>
    public int? Width { get; set; }

    /// <summary>Default height, or null.</summary>
    public int? Height { get; set; }

    /// <summary>A draft holding <paramref name="style"/>'s values, to edit it.</summary>
    public static StyleDraft From(StyleView style)
    {
        ArgumentNullException.ThrowIfNull(style);
        return new()
        {
            Name = style.Name,
            Prompt = style.Prompt,
            NegativePrompt = style.NegativePrompt,
            Model = style.Model,
            Scheduler = style.Scheduler,
            Steps = style.Steps,
            Guidance = style.Guidance,
            Width = style.Width,
            Height = style.Height,
        };
    }
}

/// <summary>
/// The styles library. A personal style is its owner's alone (anyone else's id reads as missing); a team's styles
/// are read and applied by its members and changed by its editors and owners, viewers are told why not, and
/// outsiders find nothing. Every call reads the caller's membership from the database, so a removed member loses
/// the team's styles at their next action. Changes reach the owner (or every member) live as <see cref="StylesChanged"/>.
/// </summary>
public sealed class StyleLibrary(IDbContextFactory<AppDbContext> dbFactory, StudioNotifier events, TimeProvider time)
{
    /// <summary>Longest style name.</summary>
    public const int MaxNameLength = 80;

    /// <summary>Longest default model id.</summary>
    public const int MaxModelLength = 200;

    /// <summary>The label of the reader's own styles.</summary>
    public const string MyStylesLabel = "My styles";

    /// <summary>Why a viewer may not change a team's styles.</summary>
    public const string ViewerMessage = "Viewers cannot change the team's styles; ask an editor or owner.";

    /// <summary>Why a change lost to another one.</summary>
    public const string ConflictMessage = "Someone changed this style meanwhile. Reload it and try again.";

    /// <summary>Every style the person may use: their own first ("My styles"), then each of their teams' by team name; each by name.</summary>
    public async Task<IReadOnlyList<StyleGroup>> ListAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return [];
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var teams = await db.TeamMembers.AsNoTracking().Where(m => m.UserId == userId)
            .Select(m => new { m.TeamId, m.Team!.Name, m.Role }).ToListAsync(cancellationToken);
        var teamIds = teams.Select(t => t.TeamId).ToList();
        var rows = await db.Styles.AsNoTracking()
            .Where(s => s.OwnerUserId == userId || (s.TeamId != null && teamIds.Contains(s.TeamId.Value)))
            .ToListAsync(cancellationToken);
        var groups = new List<StyleGroup>
        {
            new(MyStylesLabel, null, true, Sorted(rows.Where(s => s.OwnerUserId == userId).Select(s => View(s, MyStylesLabel, canManage: true)))),
        };
        // Sorted here, not by the database: SQLite and PostgreSQL collate names differently.
        foreach (var team in teams.OrderBy(t => t.Name, StringComparer.CurrentCultureIgnoreCase))
        {
            var canManage = team.Role >= TeamRole.Editor;
            groups.Add(new(team.Name, team.TeamId, canManage, Sorted(rows.Where(s => s.TeamId == team.TeamId).Select(s => View(s, team.Name, canManage)))));
        }
        return groups;
    }

    /// <summary>The team's styles by name, or null when the person is not a member (or there is no such team).</summary>
    public async Task<StyleGroup?> TeamStylesAsync(ClaimsPrincipal user, Guid teamId, CancellationToken cancellationToken = default)
    {
        var groups = await ListAsync(user, cancellationToken);
        return groups.FirstOrDefault(g => g.TeamId == teamId);
    }

    /// <summary>One style the person may use, or null when it is missing or not theirs to use.</summary>
    public async Task<StyleView?> GetAsync(ClaimsPrincipal user, Guid styleId, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var style = await db.Styles.AsNoTracking().Include(s => s.Team).SingleOrDefaultAsync(s => s.Id == styleId, cancellationToken);
        return style is null ? null : await RoleOfAsync(db, userId, style, cancellationToken) switch
        {
            null => null,
            var role => View(style, style.Team?.Name ?? MyStylesLabel, role >= TeamRole.Editor),
        };
    }

    /// <summary>Creates a style: the person's own when <paramref name="teamId"/> is null, else the team's (editors and owners).</summary>
    public async Task<ChangeResult> CreateAsync(ClaimsPrincipal user, Guid? teamId, StyleDraft draft, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(draft);
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return ChangeResult.Missing;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginWriteTransactionAsync(WriteScope.Teams, cancellationToken);
        if (teamId is { } team)
        {
            switch (await TeamRoleAsync(db, userId, team, cancellationToken))
            {
                case null:
                    return ChangeResult.Missing;
                case < TeamRole.Editor:
                    return ChangeResult.Refused(ViewerMessage);
            }
        }
        var style = new Style
        {
            Id = Guid.NewGuid(),
            OwnerUserId = teamId is null ? userId : null,
            TeamId = teamId,
            CreatedById = userId,
            CreatedAt = time.GetUtcNow(),
        };
        if (await ApplyAsync(db, style, draft, cancellationToken) is { Count: > 0 } errors)
        {
            return new ChangeResult(null, errors);
        }
        db.Styles.Add(style);
        return await SaveAsync(db, transaction, style, draft, cancellationToken);
    }

    /// <summary>Changes a style; <paramref name="concurrencyStamp"/> is the version the person edited.</summary>
    public Task<ChangeResult> UpdateAsync(ClaimsPrincipal user, Guid styleId, StyleDraft draft, Guid concurrencyStamp, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(draft);
        return ChangeAsync(user, styleId, async (db, style) =>
        {
            if (style.ConcurrencyStamp != concurrencyStamp)
            {
                return [ConflictMessage];
            }
            return await ApplyAsync(db, style, draft, cancellationToken);
        }, draft, cancellationToken);
    }

    /// <summary>Deletes a style (images made with it keep its name and their expanded prompt).</summary>
    public Task<ChangeResult> DeleteAsync(ClaimsPrincipal user, Guid styleId, CancellationToken cancellationToken = default) =>
        ChangeAsync(user, styleId, (db, style) =>
        {
            db.Styles.Remove(style);
            return Task.FromResult<IReadOnlyList<string>>([]);
        }, draft: null, cancellationToken);

    /// <summary>Every reason <paramref name="draft"/> cannot be saved as it stands (name uniqueness aside); empty when it can.</summary>
    public static IReadOnlyList<string> Validate(StyleDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var errors = new List<string>();
        var name = draft.Name?.Trim() ?? "";
        if (name.Length == 0)
        {
            errors.Add("Give the style a name.");
        }
        else if (name.Length > MaxNameLength)
        {
            errors.Add($"A style name has at most {MaxNameLength} characters.");
        }
        if ((draft.Prompt?.Length ?? 0) > GenerationLimits.MaxPromptLength)
        {
            errors.Add($"A style prompt has at most {GenerationLimits.MaxPromptLength} characters.");
        }
        if ((draft.NegativePrompt?.Length ?? 0) > GenerationLimits.MaxPromptLength)
        {
            errors.Add($"A style's negative prompt has at most {GenerationLimits.MaxPromptLength} characters.");
        }
        if (GenerationLimits.HasNul(draft.Name) || GenerationLimits.HasNul(draft.Prompt) || GenerationLimits.HasNul(draft.NegativePrompt) || GenerationLimits.HasNul(draft.Model))
        {
            errors.Add(GenerationLimits.NulMessage);
        }
        if (StyleExpansion.PlaceholderCount(draft.Prompt) > 1)
        {
            errors.Add($"A style prompt holds {Style.PromptPlaceholder} at most once.");
        }
        if (draft.Model?.Trim() is { Length: > MaxModelLength })
        {
            errors.Add($"A model id has at most {MaxModelLength} characters.");
        }
        if (draft.Scheduler is { } scheduler && !Enum.IsDefined(scheduler))
        {
            errors.Add("That scheduler does not exist.");
        }
        if (draft.Steps is < GenerationLimits.MinSteps or > GenerationLimits.MaxSteps)
        {
            errors.Add($"Steps are between {GenerationLimits.MinSteps} and {GenerationLimits.MaxSteps}.");
        }
        if (draft.Guidance is { } guidance && (double.IsNaN(guidance) || guidance < GenerationLimits.MinGuidance || guidance > GenerationLimits.MaxGuidance))
        {
            errors.Add($"Guidance is between {GenerationLimits.MinGuidance} and {GenerationLimits.MaxGuidance}.");
        }
        foreach (var (label, side) in new[] { ("Width", draft.Width), ("Height", draft.Height) })
        {
            if (side is { } pixels && (pixels < 8 || pixels > GenerationLimits.MaxSide || pixels % 8 != 0))
            {
                errors.Add($"{label} is a multiple of 8 from 8 to {GenerationLimits.MaxSide} pixels.");
            }
        }
        return errors;
    }

    /// <summary>The caller's role toward a style: Owner for their own, their team role for a team's, null when it is not theirs to see.</summary>
    private static async Task<TeamRole?> RoleOfAsync(AppDbContext db, string userId, Style style, CancellationToken cancellationToken) =>
        style.TeamId is { } teamId ? await TeamRoleAsync(db, userId, teamId, cancellationToken)
        : style.OwnerUserId == userId ? TeamRole.Owner
        : null;

    private static Task<TeamRole?> TeamRoleAsync(AppDbContext db, string userId, Guid teamId, CancellationToken cancellationToken) =>
        db.TeamMembers.Where(m => m.TeamId == teamId && m.UserId == userId).Select(m => (TeamRole?)m.Role).SingleOrDefaultAsync(cancellationToken);

    /// <summary>Validates <paramref name="draft"/> (its name against the owner's other styles too) and copies it onto <paramref name="style"/>.</summary>
    private async Task<IReadOnlyList<string>> ApplyAsync(AppDbContext db, Style style, StyleDraft draft, CancellationToken cancellationToken)
    {
        if (Validate(draft) is { Count: > 0 } errors)
        {
            return errors;
        }
        var name = draft.Name.Trim();
        // Compared here, not by the database: its unique index is case-sensitive on SQLite and PostgreSQL alike.
        var siblings = await db.Styles.AsNoTracking()
            .Where(s => s.Id != style.Id && (style.TeamId != null ? s.TeamId == style.TeamId : s.OwnerUserId == style.OwnerUserId))
            .Select(s => s.Name).ToListAsync(cancellationToken);
        if (siblings.Any(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase)))
        {
            return [DuplicateMessage(style, name)];
        }
        style.Name = name;
        style.Prompt = (draft.Prompt ?? "").Trim();
        style.NegativePrompt = (draft.NegativePrompt ?? "").Trim();
        style.Model = string.IsNullOrWhiteSpace(draft.Model) ? null : draft.Model.Trim();
        style.Scheduler = draft.Scheduler?.ToString();
        style.Steps = draft.Steps;
        style.Guidance = draft.Guidance;
        style.Width = draft.Width;
        style.Height = draft.Height;
        style.UpdatedAt = time.GetUtcNow();
        style.ConcurrencyStamp = Guid.NewGuid();
        return [];
    }

    private static string DuplicateMessage(Style style, string name) =>
        style.TeamId is null ? $"You already have a style named \"{name}\"." : $"This team already has a style named \"{name}\".";

    /// <summary>
    /// Finds the style for a change (missing for anyone it is not visible to; viewers refused), runs
    /// <paramref name="change"/> inside the write transaction, saves, and tells everyone who sees it.
    /// </summary>
    private async Task<ChangeResult> ChangeAsync(ClaimsPrincipal user, Guid styleId, Func<AppDbContext, Style, Task<IReadOnlyList<string>>> change,
        StyleDraft? draft, CancellationToken cancellationToken)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return ChangeResult.Missing;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginWriteTransactionAsync(WriteScope.Teams, cancellationToken);
        var style = await db.Styles.SingleOrDefaultAsync(s => s.Id == styleId, cancellationToken);
        switch (style is null ? null : await RoleOfAsync(db, userId, style, cancellationToken))
        {
            case null:
                return ChangeResult.Missing;
            case < TeamRole.Editor:
                return ChangeResult.Refused(ViewerMessage);
        }
        if (await change(db, style!) is { Count: > 0 } errors)
        {
            return new ChangeResult(null, errors);
        }
        return await SaveAsync(db, transaction, style!, draft, cancellationToken);
    }

    private async Task<ChangeResult> SaveAsync(AppDbContext db, Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction transaction, Style style, StyleDraft? draft, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return ChangeResult.Refused(ConflictMessage);
        }
        catch (DbUpdateException) when (draft is not null)
        {
            // The unique index caught a name written between the check and the save.
            return ChangeResult.Refused(DuplicateMessage(style, draft.Name.Trim()));
        }
        await TellAsync(db, style, cancellationToken);
        return new ChangeResult(style.Id, []);
    }

    /// <summary>The owner of a personal style, or every member of the team, hears that its styles changed.</summary>
    private async Task TellAsync(AppDbContext db, Style style, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> recipients = style.TeamId is { } teamId
            ? await db.TeamMembers.AsNoTracking().Where(m => m.TeamId == teamId).Select(m => m.UserId).ToListAsync(cancellationToken)
            : [style.OwnerUserId!];
        foreach (var recipient in recipients)
        {
            events.Publish(new StylesChanged(style.TeamId, recipient));
        }
    }

    private static List<StyleView> Sorted(IEnumerable<StyleView> styles) =>
        [.. styles.OrderBy(s => s.Name, StringComparer.CurrentCultureIgnoreCase)];

    private static StyleView View(Style style, string owner, bool canManage) => new(
        style.Id, style.Name, style.Prompt, style.NegativePrompt, style.TeamId, owner, canManage,
        style.Model, Enum.TryParse<SchedulerKind>(style.Scheduler, out var kind) ? kind : null,
        style.Steps, style.Guidance, style.Width, style.Height, style.ConcurrencyStamp);
}

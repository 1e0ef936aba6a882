namespace T2IStudio.Data.Entities;

/// <summary>
/// A named prompt fragment with a negative fragment and optional default parameters, owned by one person or by a
/// team. Applied on Create: the person's prompt goes where <c>{prompt}</c> stands, or the fragment is appended.
/// </summary>
public sealed class Style
{
    /// <summary>The placeholder in <see cref="Prompt"/> that the person's own prompt replaces.</summary>
    public const string PromptPlaceholder = "{prompt}";

    /// <summary>The style's id.</summary>
    public Guid Id { get; set; }

    /// <summary>Its name, unique (ignoring case) among its owner's styles.</summary>
    public string Name { get; set; } = "";

    /// <summary>The prompt fragment, with or without <see cref="PromptPlaceholder"/>.</summary>
    public string Prompt { get; set; } = "";

    /// <summary>The negative fragment, appended to the person's negative prompt.</summary>
    public string NegativePrompt { get; set; } = "";

    /// <summary>The person who owns a personal style; null for a team's.</summary>
    public string? OwnerUserId { get; set; }

    /// <summary>The team that owns a team style; null for a personal one.</summary>
    public Guid? TeamId { get; set; }

    /// <summary>The team.</summary>
    public Team? Team { get; set; }

    /// <summary>Default model id, if the style sets one.</summary>
    public string? Model { get; set; }

    /// <summary>Default sampler, by its enum name (the data layer knows nothing of the engine), if set.</summary>
    public string? Scheduler { get; set; }

    /// <summary>Default steps, if set.</summary>
    public int? Steps { get; set; }

    /// <summary>Default guidance scale, if set.</summary>
    public double? Guidance { get; set; }

    /// <summary>Default width in pixels, if set.</summary>
    public int? Width { get; set; }

    /// <summary>Default height in pixels, if set.</summary>
    public int? Height { get; set; }

    /// <summary>Who created it.</summary>
    public string CreatedById { get; set; } = "";

    /// <summary>When it was created (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When it was last changed (UTC).</summary>
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Optimistic concurrency token, replaced on every change.</summary>
    public Guid ConcurrencyStamp { get; set; } = Guid.NewGuid();
}

namespace T2IStudio.Web.Components.Teams;

/// <summary>
/// The "Allowed models" multi-select as the team limits and the admin's team defaults use it: installed model ids,
/// plus choices that stand alone ("All models", and for a team "Use the server default"). Picking one of those
/// clears the models; picking a model clears them.
/// </summary>
public static class AllowedModelsChoice
{
    /// <summary>The value of the "All models" choice (not a model id: ids are folder names).</summary>
    public const string AllModels = "\u0001all";

    /// <summary>The value of the "Use the server default" choice.</summary>
    public const string ServerDefault = "\u0001default";

    /// <summary>The text shown for <paramref name="value"/>.</summary>
    public static string Text(string? value) => value switch
    {
        AllModels => "All models",
        ServerDefault => "Use the server default",
        _ => value ?? "",
    };

    /// <summary>The selection for a stored list: null follows the server default (or, where there is none to follow, all models); empty is all models.</summary>
    public static IReadOnlyCollection<string> From(IReadOnlyList<string>? models, bool offersServerDefault) => models switch
    {
        null => [offersServerDefault ? ServerDefault : AllModels],
        { Count: 0 } => [AllModels],
        _ => [.. models],
    };

    /// <summary>
    /// The selection after the person changed <paramref name="previous"/> into <paramref name="next"/>: a stand-alone
    /// choice just picked wins alone; a model just picked drops the stand-alone choices.
    /// </summary>
    public static IReadOnlyCollection<string> Normalize(IReadOnlyCollection<string> previous, IEnumerable<string?> next)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(next);
        var chosen = next.OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var added = chosen.Where(v => !previous.Contains(v)).ToList();
        if (added.FirstOrDefault(IsStandAlone) is { } standAlone)
        {
            return [standAlone];
        }
        return added.Count > 0 ? [.. chosen.Where(v => !IsStandAlone(v))] : chosen;
    }

    /// <summary>
    /// The list to save in <paramref name="models"/>: null for the server default, empty for all models, else the models;
    /// false when nothing is chosen.
    /// </summary>
    public static bool TryToList(IReadOnlyCollection<string> selection, out IReadOnlyList<string>? models)
    {
        ArgumentNullException.ThrowIfNull(selection);
        models = selection.Contains(ServerDefault) ? null
            : selection.Contains(AllModels) ? []
            : [.. selection];
        return selection.Count > 0;
    }

    private static bool IsStandAlone(string value) => value is AllModels or ServerDefault;
}

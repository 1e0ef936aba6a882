namespace T2IStudio.Data.Entities;

/// <summary>A server-wide setting that admins change in the app (not in appsettings): a key and its JSON value.</summary>
public sealed class StudioSetting
{
    /// <summary>The setting's key, such as "Teams:Defaults".</summary>
    public string Key { get; set; } = "";

    /// <summary>Its value as JSON.</summary>
    public string Value { get; set; } = "";

    /// <summary>When it was last changed (UTC).</summary>
    public DateTimeOffset UpdatedAt { get; set; }
}

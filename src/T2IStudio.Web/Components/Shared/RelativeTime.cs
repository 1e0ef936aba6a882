using System.Globalization;

namespace T2IStudio.Web.Components.Shared;

/// <summary>How long ago something happened, in the words lists show beside its date.</summary>
public static class RelativeTime
{
    /// <summary>"just now", "5 min ago", "3 h ago", "yesterday", "4 days ago"; empty from a week on (the date says it).</summary>
    public static string Of(DateTimeOffset at, DateTimeOffset now)
    {
        var elapsed = now - at;
        return elapsed.TotalSeconds < 60 ? "just now"
            : elapsed.TotalMinutes < 60 ? $"{(int)elapsed.TotalMinutes} min ago"
            : elapsed.TotalHours < 24 ? $"{(int)elapsed.TotalHours} h ago"
            : elapsed.TotalDays < 2 ? "yesterday"
            : elapsed.TotalDays < 7 ? $"{(int)elapsed.TotalDays} days ago"
            : "";
    }

    /// <summary>The date and time in the server's zone and culture, as the other lists show them.</summary>
    public static string Absolute(DateTimeOffset at) => at.ToLocalTime().ToString("g", CultureInfo.CurrentCulture);

    /// <summary>Both: "5 min ago · 02/12/2026 09:43", or the date alone when long ago.</summary>
    public static string Both(DateTimeOffset at, DateTimeOffset now) => Of(at, now) is { Length: > 0 } relative ? $"{relative} · {Absolute(at)}" : Absolute(at);
}

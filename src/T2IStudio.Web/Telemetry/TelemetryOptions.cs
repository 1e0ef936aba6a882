namespace T2IStudio.Web.Telemetry;

/// <summary>Telemetry settings (section <c>Telemetry</c>).</summary>
public sealed record TelemetryOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Telemetry";

    /// <summary>The Prometheus scrape route.</summary>
    public const string ScrapePath = "/metrics";

    /// <summary>
    /// Exports the studio's meters, ASP.NET Core's and the runtime's in Prometheus' text format at
    /// <see cref="ScrapePath"/>, for admins only (their session cookie, or an admin's API token as a bearer). Off by
    /// default: the route then answers 404 and no meter is collected.
    /// </summary>
    public bool Prometheus { get; init; }
}

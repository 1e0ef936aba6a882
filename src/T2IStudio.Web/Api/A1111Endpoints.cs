namespace T2IStudio.Web.Api;

/// <summary>The AUTOMATIC1111-compatible API under <c>/sdapi/v1</c>.</summary>
public static class A1111Endpoints
{
    /// <summary>Maps the routes of <c>/sdapi/v1</c> onto <paramref name="sdapi"/> (already token-authenticated and rate-limited).</summary>
    public static RouteGroupBuilder MapA1111(this RouteGroupBuilder sdapi)
    {
        ArgumentNullException.ThrowIfNull(sdapi);
        return sdapi;
    }
}

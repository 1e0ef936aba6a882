namespace T2IStudio.Web.Api;

/// <summary><c>/api/v1</c>: images, galleries and prompt history.</summary>
public static class ApiV1Library
{
    /// <summary>Maps the image, gallery and prompt routes.</summary>
    public static RouteGroupBuilder MapApiV1Library(this RouteGroupBuilder v1) => v1;
}

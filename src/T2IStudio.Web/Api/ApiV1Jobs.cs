namespace T2IStudio.Web.Api;

/// <summary><c>/api/v1</c>: submitting jobs, their status, cancel, list, live events, and the models.</summary>
public static class ApiV1Jobs
{
    /// <summary>Maps the job routes.</summary>
    public static RouteGroupBuilder MapApiV1Jobs(this RouteGroupBuilder v1) => v1;
}

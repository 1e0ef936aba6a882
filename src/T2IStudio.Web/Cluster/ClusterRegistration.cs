using Microsoft.Extensions.Options;

namespace T2IStudio.Web.Cluster;

/// <summary>Registers this node's link to the others (part of <c>AddStudioWeb</c>).</summary>
internal static class ClusterRegistration
{
    /// <summary>Binds <see cref="ClusterOptions"/> and registers <see cref="ClusterNode"/> and an <see cref="IClusterBus"/>.</summary>
    public static void AddCluster(IServiceCollection services)
    {
        services.AddOptions<ClusterOptions>()
            .BindConfiguration(ClusterOptions.Section)
            .PostConfigure<IConfiguration>((options, configuration) =>
                options.RedisConnectionString ??= configuration.GetConnectionString(ClusterOptions.RedisConnectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<ClusterOptions>>().Value;
            var name = string.IsNullOrWhiteSpace(options.NodeName) ? Environment.MachineName : options.NodeName.Trim();
            return new ClusterNode(Guid.NewGuid().ToString("N"), name);
        });
        services.AddSingleton<IClusterBus>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<ClusterOptions>>().Value;
            var node = provider.GetRequiredService<ClusterNode>();
            var time = provider.GetRequiredService<TimeProvider>();
            return options.IsShared
                ? new RedisClusterBus(node, options.RedisConnectionString!, options.RedisPrefix, time, provider.GetRequiredService<ILogger<RedisClusterBus>>())
                : new LocalClusterBus(node, time);
        });
    }
}

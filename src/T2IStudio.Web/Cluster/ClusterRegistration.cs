using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Cluster;

/// <summary>Registers this node's link to the others (part of <c>AddStudioWeb</c>).</summary>
internal static class ClusterRegistration
{
    /// <summary>The suffix of the SignalR backplane's channel prefix (after <c>Cluster:RedisPrefix</c>).</summary>
    public const string SignalRPrefixSuffix = "-signalr";

    /// <summary>
    /// Binds <see cref="ClusterOptions"/> and registers <see cref="ClusterNode"/>, an <see cref="IClusterBus"/>, the
    /// sharing of gallery presence, and the worker hub's SignalR backplane.
    /// </summary>
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
        services.AddHostedService<PresenceSharing>();
        // The worker hub only: a server push to a worker (Assign, Stop) reaches it whichever node it joined. Blazor's
        // circuit hub keeps the in-process manager, so a node that loses Redis keeps serving its own circuits.
        // A closed registration wins over AddSignalR's open HubLifetimeManager<> for this one hub.
        services.AddSingleton<HubLifetimeManager<WorkerHub>>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<ClusterOptions>>().Value;
            if (!options.IsShared)
            {
                return new DefaultHubLifetimeManager<WorkerHub>(provider.GetRequiredService<ILogger<DefaultHubLifetimeManager<WorkerHub>>>());
            }
            var redis = new RedisOptions { Configuration = ConfigurationOptions.Parse(options.RedisConnectionString!) };
            redis.Configuration.AbortOnConnectFail = false;
            redis.Configuration.ChannelPrefix = RedisChannel.Literal(options.RedisPrefix + SignalRPrefixSuffix);
            return new RedisHubLifetimeManager<WorkerHub>(
                provider.GetRequiredService<ILogger<RedisHubLifetimeManager<WorkerHub>>>(),
                Options.Create(redis),
                provider.GetRequiredService<IHubProtocolResolver>(),
                provider.GetRequiredService<IOptions<HubOptions>>(),
                provider.GetRequiredService<IOptions<HubOptions<WorkerHub>>>());
        });
    }
}

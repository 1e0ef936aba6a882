using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace T2IStudio.Generation.Models;

/// <summary>Warms up the configured model at start, then releases idle models once a minute.</summary>
internal sealed partial class ModelMaintenance(ModelHost host, IOptions<GenerationOptions> options, TimeProvider time, ILogger<ModelMaintenance> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.WarmUpModel is { Length: > 0 } id)
        {
            try
            {
                await host.WarmUpAsync(id, stoppingToken);
            }
            catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or ArgumentException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
            {
                LogWarmUpFailed(ex, id);
            }
        }
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            host.UnloadIdle();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not warm up model {ModelId}; it loads on first use instead.")]
    private partial void LogWarmUpFailed(Exception exception, string modelId);
}

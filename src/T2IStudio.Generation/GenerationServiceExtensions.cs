using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using T2IStudio.Generation.Models;

namespace T2IStudio.Generation;

/// <summary>Registers the generation engine.</summary>
public static class GenerationServiceExtensions
{
    /// <summary>
    /// Binds <see cref="GenerationOptions"/> (validated at start: a wrong value names its key), registers the
    /// <see cref="ModelHost"/>, the background maintenance that warms up and unloads models, and the
    /// <see cref="Workers.WorkerLoop"/> a worker (in process or remote) runs jobs with.
    /// </summary>
    public static IHostApplicationBuilder AddStudioGeneration(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<GenerationOptions>()
            .BindConfiguration(GenerationOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ModelHost>();
        builder.Services.AddHostedService<ModelMaintenance>();
        builder.Services.AddSingleton<Workers.WorkerLoop>();
        return builder;
    }
}

using System.Reflection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Workers;

namespace T2IStudio.Worker;

/// <summary>The process's exit code, set by <see cref="WorkerService"/> before it stops the host.</summary>
public sealed class WorkerExit
{
    /// <summary>0: stopped on request. 1: the connection ended for good. 2: the server refused the key.</summary>
    public int Code { get; set; }
}

/// <summary>
/// Connects to the server, says Hello, then runs <see cref="WorkerLoop"/> until the process is asked to stop
/// (Ctrl+C, SIGTERM): the loop hands back a job it was running, and the process exits 0.
/// </summary>
public sealed partial class WorkerService(
    ModelHost models,
    WorkerLoop loop,
    WorkerExit exit,
    IOptions<WorkerOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILoggerFactory loggerFactory,
    ILogger<WorkerService> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var hello = Hello(settings);
        var transport = new SignalRWorkerTransport(settings.HubUrls, settings.Key, hello, loggerFactory.CreateLogger<SignalRWorkerTransport>(), time);
        await using (transport)
        {
            try
            {
                await transport.ConnectAsync(stoppingToken);
                LogReady(hello.Name, transport.HubUrl, hello.Device, string.Join(", ", hello.Models));
                await loop.RunAsync(transport, stoppingToken);
                if (!stoppingToken.IsCancellationRequested)
                {
                    LogClosed();
                    exit.Code = 1;
                }
            }
            catch (WorkerKeyRefusedException ex)
            {
                await Console.Error.WriteLineAsync(ex.Message);
                exit.Code = 2;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Stopped before it joined.
            }
        }
        lifetime.StopApplication();
    }

    private WorkerHello Hello(WorkerOptions settings)
    {
        var device = models.Device.Active;
        var version = typeof(WorkerService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        long? free = device.IsCuda ? null : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var ids = WorkerModels.Of(models).ToList(); // diffusion models and upscaler:ID for each upscaler
        return new WorkerHello(Guid.NewGuid(), settings.EffectiveName, device.Name, free, ids, version);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {Name} ready: joined {HubUrl} on {Device} with models {Models}, waiting for work")]
    private partial void LogReady(string name, Uri hubUrl, string device, string models);

    [LoggerMessage(Level = LogLevel.Error, Message = "The connection to the server ended for good")]
    private partial void LogClosed();
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using T2IStudio.Generation;
using T2IStudio.Generation.Workers;

namespace T2IStudio.Worker;

/// <summary>
/// <c>T2IStudio.Worker --server http://web:5080[,http://web2:5080] --key KEY [--device auto|cpu|cuda:N] [--models DIR] [--name NAME]</c>:
/// a generation worker for a T2I Studio web app (or several web nodes, tried in turn). Exit codes: 0 stopped, 1 bad arguments or the connection
/// ended for good, 2 the server refused the key.
/// </summary>
internal static class WorkerProgram
{
    private const string Usage = "Usage: T2IStudio.Worker --server http://HOST:PORT[,http://HOST2:PORT…] --key KEY [--device auto|cpu|cuda:N] [--models DIR] [--name NAME]";

    private static async Task<int> Main(string[] args)
    {
        // Relative paths (the default "models") resolve beside the worker, wherever it is started from.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddCommandLine(args, WorkerOptions.SwitchMappings);
        var worker = builder.Configuration.GetSection(WorkerOptions.Section).Get<WorkerOptions>() ?? new WorkerOptions();
        if (WorkerOptions.ParseDevice(worker.Device) is not { } device)
        {
            await Console.Error.WriteLineAsync($"--device must be auto, cpu, cuda or cuda:N, not \"{worker.Device}\".");
            return 1;
        }
        if (worker.ServerProblem() is { } problem)
        {
            await Console.Error.WriteLineAsync(problem);
            await Console.Error.WriteLineAsync(Usage);
            return 1;
        }
        if (string.IsNullOrWhiteSpace(worker.Key))
        {
            await Console.Error.WriteLineAsync(Usage);
            return 1;
        }
        var generation = new Dictionary<string, string?>
        {
            ["Generation:Device"] = device.Preference.ToString(),
            ["Generation:DeviceId"] = device.DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (!string.IsNullOrWhiteSpace(worker.Models))
        {
            generation["Generation:ModelRoots:0"] = Path.GetFullPath(worker.Models);
        }
        builder.Configuration.AddInMemoryCollection(generation);
        builder.Logging.AddSimpleConsole(options => options.SingleLine = true);

        builder.Services.AddOptions<WorkerOptions>()
            .BindConfiguration(WorkerOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.AddStudioGeneration();
        builder.Services.AddSingleton<WorkerLoop>();
        builder.Services.AddSingleton<WorkerExit>();
        builder.Services.AddHostedService<WorkerService>();

        using var host = builder.Build();
        var exit = host.Services.GetRequiredService<WorkerExit>();
        await host.RunAsync();
        return exit.Code;
    }
}

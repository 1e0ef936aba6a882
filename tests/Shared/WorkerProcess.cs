using System.Diagnostics;
using System.Text;
namespace T2IStudio.Testing;

/// <summary>
/// A real <c>T2IStudio.Worker</c> process started from its build output (the same command the README gives),
/// its output captured; disposing kills it if it still runs. Shared by the integration tests, the browser tests
/// and the worker benchmark (linked by tests/Directory.Build.props and the bench project).
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();

    private WorkerProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    /// <summary>The worker's name (also what the Admin page and the job rows show).</summary>
    public string Name { get; }

    /// <summary>Its process id.</summary>
    public int Id => _process.Id;

    /// <summary>Everything it wrote, stdout and stderr interleaved.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Where the worker's build output is: <paramref name="preferred"/> (lower case), else the other configuration.</summary>
    public static string DllPath(string preferred = "debug")
    {
        foreach (var configuration in new[] { preferred, preferred == "debug" ? "release" : "debug" })
        {
            var path = Path.Combine(RepositoryRoot.Path, "artifacts", "bin", "T2IStudio.Worker", configuration, "T2IStudio.Worker.dll");
            if (File.Exists(path))
            {
                return path;
            }
        }
        throw new InvalidOperationException("T2IStudio.Worker is not built: run dotnet build first.");
    }

    /// <summary>Starts <c>dotnet T2IStudio.Worker.dll --server URL --key KEY --name NAME --device cpu --models repo/models</c>.</summary>
    public static WorkerProcess Start(string server, string key, string name, string configuration = "debug")
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { DllPath(configuration), "--server", server, "--key", key, "--name", name, "--device", "cpu", "--models", Path.Combine(RepositoryRoot.Path, "models") })
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var worker = new WorkerProcess(name, process);
        process.OutputDataReceived += (_, e) => worker.Take(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Take(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Waits for the line the worker writes once it has joined and waits for work.</summary>
    public async Task WaitUntilReadyAsync()
    {
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(_ready.Task, exited, Task.Delay(TimeSpan.FromMinutes(2)));
        if (first != _ready.Task)
        {
            throw new TimeoutException($"Worker {Name} did not get ready{(_process.HasExited ? $" (exited with {_process.ExitCode})" : "")}. Its output:\n{Output}");
        }
    }

    /// <summary>Waits for the process to end by itself and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>kill -9: the process ends at once, no shutdown code runs, its connection drops.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
            // It never started.
        }
        _process.Dispose();
    }

    private void Take(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            _output.AppendLine(line);
        }
        if (line.Contains($"Worker {Name} ready", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }
}

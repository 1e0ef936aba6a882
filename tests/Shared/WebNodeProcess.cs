using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
namespace T2IStudio.Testing;

/// <summary>
/// A real web node: <c>dotnet artifacts/bin/T2IStudio.Web/debug/T2IStudio.Web.dll --urls http://127.0.0.1:PORT</c>
/// as a process of its own, with the repository root as its working directory and content root (as
/// <c>dotnet run</c> has it: RunWorkingDirectory), its settings in the environment, its output captured.
/// <see cref="Kill"/> is SIGKILL; disposing kills it if it still runs.
/// </summary>
/// <remarks>
/// Development, because the Debug build finds its static web assets (<c>_framework/blazor.web.js</c>) through the
/// development manifest beside the dll; in Production it would answer 500 for them.
/// </remarks>
internal sealed class WebNodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();

    private WebNodeProcess(string name, int port, Process process)
    {
        Name = name;
        Url = $"http://127.0.0.1:{port}";
        _process = process;
    }

    /// <summary>The node's name (<c>Cluster:NodeName</c>).</summary>
    public string Name { get; }

    /// <summary>Its address, e.g. <c>http://127.0.0.1:41234</c> (no trailing slash).</summary>
    public string Url { get; }

    /// <summary>Whether the process has ended.</summary>
    public bool HasExited => _process.HasExited;

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

    /// <summary>Where the web app's build output is.</summary>
    public static string DllPath()
    {
        var path = Path.Combine(RepositoryRoot.Path, "artifacts", "bin", "T2IStudio.Web", "debug", "T2IStudio.Web.dll");
        return File.Exists(path) ? path : throw new InvalidOperationException("T2IStudio.Web is not built: run dotnet build first.");
    }

    /// <summary>
    /// Starts a node named <paramref name="name"/> on a free loopback port with <paramref name="settings"/> as
    /// environment variables (<c>Section__Key</c> form), and waits until <c>GET /health</c> answers 200.
    /// </summary>
    public static async Task<WebNodeProcess> StartAsync(string name, IReadOnlyDictionary<string, string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var port = FreeLoopbackPort();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { DllPath(), "--urls", $"http://127.0.0.1:{port}" })
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        info.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        info.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";
        info.Environment["Cluster__NodeName"] = name;
        foreach (var (key, value) in settings)
        {
            info.Environment[key] = value;
        }
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var node = new WebNodeProcess(name, port, process);
        process.OutputDataReceived += (_, e) => node.Take(e.Data);
        process.ErrorDataReceived += (_, e) => node.Take(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await node.WaitUntilHealthyAsync();
        }
        catch
        {
            node.Dispose();
            throw;
        }
        return node;
    }

    /// <summary>kill -9: the node ends at once, no shutdown code runs, every connection to it drops.</summary>
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

    private async Task WaitUntilHealthyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var last = "no answer yet";
        while (!_process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(Url + "/health"), timeout.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
                last = $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(timeout.Token)}";
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }
            catch (TaskCanceledException) when (!timeout.IsCancellationRequested)
            {
                last = "GET /health took longer than 10 s";
            }
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), timeout.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        var ended = _process.HasExited ? $" (exited with {_process.ExitCode})" : "";
        throw new TimeoutException($"Web node {Name} never answered GET /health with 200{ended}; last: {last}. Its output:\n{Output}");
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
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

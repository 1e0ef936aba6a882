using System.ComponentModel.DataAnnotations;
using T2IStudio.Generation.Onnx;

namespace T2IStudio.Worker;

/// <summary>
/// The worker's settings (section <c>Worker</c>): <c>--server</c>, <c>--key</c>, <c>--device</c>, <c>--models</c>,
/// <c>--name</c> on the command line, or <c>Worker__Server</c>, <c>Worker__Key</c>, … in the environment.
/// </summary>
public sealed record WorkerOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Worker";

    /// <summary>The command-line switches and the keys they set.</summary>
    public static IDictionary<string, string> SwitchMappings { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--server"] = "Worker:Server",
        ["--key"] = "Worker:Key",
        ["--device"] = "Worker:Device",
        ["--models"] = "Worker:Models",
        ["--name"] = "Worker:Name",
    };

    /// <summary>
    /// The web app's address (<c>http://web:5080</c>), or several web nodes' addresses separated by commas
    /// (<c>http://web1:8080,http://web2:8080</c>); the hub is at <c>/hubs/workers</c> under each.
    /// </summary>
    [Required(ErrorMessage = "Worker:Server is required: --server http://HOST:PORT[,http://HOST2:PORT] (or Worker__Server).")]
    public string Server { get; init; } = "";

    /// <summary>A worker key: one of the server's <c>Workers:Keys</c>, or one an admin created on the Admin page.</summary>
    [Required(ErrorMessage = "Worker:Key is required: --key KEY (or Worker__Key).")]
    public string Key { get; init; } = "";

    /// <summary><c>auto</c>, <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>A folder of model folders; unset: <c>Generation:ModelRoots</c> (the <c>models</c> folder beside the worker).</summary>
    public string? Models { get; init; }

    /// <summary>The name people see on the Admin page; unset: this machine's name.</summary>
    public string? Name { get; init; }

    /// <summary>The addresses in <see cref="Server"/>, in the order given, blanks left out.</summary>
    public IReadOnlyList<string> Servers =>
        Server.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Each server's hub, in the order given: the worker joins the first that answers and moves on in turn when one is lost.</summary>
    public IReadOnlyList<Uri> HubUrls =>
        [.. Servers.Select(server => new Uri(new Uri(server.TrimEnd('/') + "/", UriKind.Absolute), "hubs/workers"))];

    /// <summary>The name announced.</summary>
    public string EffectiveName => string.IsNullOrWhiteSpace(Name) ? Environment.MachineName : Name.Trim();

    /// <summary>Reads <c>--device</c>: the preference and the GPU index, or null with a reason when it is not one of the forms.</summary>
    public static (DevicePreference Preference, int DeviceId)? ParseDevice(string? device) => (device ?? "auto").Trim().ToLowerInvariant() switch
    {
        "" or "auto" => (DevicePreference.Auto, 0),
        "cpu" => (DevicePreference.Cpu, 0),
        "cuda" => (DevicePreference.Cuda, 0),
        var d when d.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(d["cuda:".Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)
            && id is >= 0 and <= 63 => (DevicePreference.Cuda, id),
        _ => null,
    };

    /// <summary>
    /// What is wrong with <see cref="Server"/>, naming the address at fault, or null when it holds one or more
    /// absolute http or https addresses.
    /// </summary>
    public string? ServerProblem()
    {
        if (Servers.Count == 0)
        {
            return "--server is required: --server http://HOST:PORT[,http://HOST2:PORT] (or Worker__Server).";
        }
        foreach (var server in Servers)
        {
            if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                return $"--server: \"{server}\" is not an http or https address.";
            }
        }
        return null;
    }
}

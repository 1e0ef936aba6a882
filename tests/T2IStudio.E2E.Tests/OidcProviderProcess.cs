using System.Diagnostics;
using System.Text;
using T2IStudio.Testing;

namespace T2IStudio.E2E.Tests;

/// <summary>
/// The loopback OpenID provider (<c>tools/oidc-provider/provider.mjs</c>, the certified npm package
/// <c>oidc-provider</c>) as a Node process of its own, with one client for the app under test. Started before the
/// app (its address goes into the app's settings), ready once its discovery document answers, killed on dispose.
/// </summary>
public sealed class OidcProviderProcess : IAsyncDisposable
{
    /// <summary>The client id the app uses.</summary>
    public const string ClientId = "t2i-studio";

    /// <summary>The client secret the app uses.</summary>
    public const string ClientSecret = "t2i-studio-secret";

    /// <summary>The password of every test account (provider.mjs's PASSWORD).</summary>
    public const string Password = "provider-pass-1";

    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();

    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private OidcProviderProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The provider's issuer (its address, no trailing slash), the app's <c>Authentication:Oidc:Authority</c>.</summary>
    public string Issuer { get; private set; } = "";

    /// <summary>Everything the provider wrote, for a failure's message.</summary>
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

    /// <summary>Starts the provider for an app at <paramref name="appBaseUrl"/> and waits for its discovery document.</summary>
    public static async Task<OidcProviderProcess> StartAsync(string appBaseUrl)
    {
        var folder = Path.Combine(RepositoryRoot.Path, "tools", "oidc-provider");
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "oidc-provider")))
        {
            throw new InvalidOperationException($"The test OpenID provider's packages are missing: run `npm ci` in {folder} (test.sh does).");
        }
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     // Port 0: the provider listens on a port the system picks and prints it (a probed port could be taken meanwhile).
                     "provider.mjs", "--port", "0",
                     "--redirect", appBaseUrl + "/signin-oidc", "--post-logout", appBaseUrl + "/signout-callback-oidc",
                     "--client-id", ClientId, "--client-secret", ClientSecret,
                 })
        {
            info.ArgumentList.Add(argument);
        }
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("node did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("Node.js is needed for the OpenID provider tests: install it (apt-get install -y nodejs npm).", ex);
        }
        var provider = new OidcProviderProcess(process);
        process.OutputDataReceived += (_, e) => provider.Append(e.Data);
        process.ErrorDataReceived += (_, e) => provider.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            provider.Issuer = await provider.WaitForListeningAsync();
            await provider.WaitForDiscoveryAsync();
        }
        catch
        {
            await provider.DisposeAsync();
            throw;
        }
        return provider;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            _output.AppendLine(line);
        }
        if (line.StartsWith(ListeningPrefix, StringComparison.Ordinal))
        {
            _listening.TrySetResult(line[ListeningPrefix.Length..].Trim());
        }
    }

    private const string ListeningPrefix = "listening ";

    // Waits for the "listening <issuer>" line, with a deadline (the process may also die first).
    private async Task<string> WaitForListeningAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (!_listening.Task.IsCompleted)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The OpenID provider exited with code {_process.ExitCode}: {Output}");
            }
            if (deadline.Elapsed > StartDeadline)
            {
                throw new TimeoutException($"The OpenID provider did not say where it listens within {StartDeadline.TotalSeconds} s: {Output}");
            }
            await Task.WhenAny(_listening.Task, Task.Delay(100));
        }
        return await _listening.Task;
    }

    // Polls the discovery document until it answers, with a deadline (the process may also die first).
    private async Task WaitForDiscoveryAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var discovery = new Uri(Issuer + "/.well-known/openid-configuration");
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The OpenID provider exited with code {_process.ExitCode}: {Output}");
            }
            try
            {
                using var response = await http.GetAsync(discovery);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            if (deadline.Elapsed > StartDeadline)
            {
                throw new TimeoutException($"The OpenID provider did not serve {discovery} within {StartDeadline.TotalSeconds} s: {Output}");
            }
            await Task.Delay(100);
        }
    }
}

/// <summary>The app with the company sign-in turned on against a fresh <see cref="OidcProviderProcess"/>.</summary>
public sealed class OidcStudioServer : StudioServer
{
    /// <summary>The provider's name on the button ("Sign in with Example SSO").</summary>
    public const string DisplayName = "Example SSO";

    /// <summary>The one domain allowed to sign in.</summary>
    public const string AllowedDomain = "example.test";

    /// <summary>The running provider.</summary>
    public OidcProviderProcess Provider { get; private set; } = default!;

    /// <inheritdoc />
    protected override async Task BeforeStartAsync(string baseUrl) => Provider = await OidcProviderProcess.StartAsync(baseUrl);

    /// <inheritdoc />
    protected override IEnumerable<KeyValuePair<string, string?>> Settings(string baseUrl) =>
    [
        new("Authentication:Oidc:Authority", Provider.Issuer),
        new("Authentication:Oidc:ClientId", OidcProviderProcess.ClientId),
        new("Authentication:Oidc:ClientSecret", OidcProviderProcess.ClientSecret),
        new("Authentication:Oidc:DisplayName", DisplayName),
        new("Authentication:Oidc:AllowedDomains:0", AllowedDomain),
        new("Authentication:Oidc:RequireHttpsMetadata", "false"),
    ];

    /// <inheritdoc />
    protected override async Task AfterStopAsync()
    {
        if (Provider is not null)
        {
            await Provider.DisposeAsync();
        }
    }
}

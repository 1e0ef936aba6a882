using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace T2IStudio.E2E.Tests;

/// <summary>The published app folder runs on its own, with appsettings.json and wwwroot/ beside the app.</summary>
public sealed partial class PublishedAppTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("t2i-publish-").FullName;

    [Fact]
    public async Task Published_folder_serves_the_app_with_root_settings_and_static_files()
    {
        var appDir = Path.Combine(_work, "app");
        var (publishExit, publishLog) = await RunToEndAsync("dotnet", ["publish", Path.Combine(RepositoryRoot.Path, "src", "T2IStudio.Web"), "-c", "Release", "-o", appDir, "--nologo"]);
        Assert.True(publishExit == 0, "dotnet publish failed:\n" + publishLog);

        Assert.True(File.Exists(Path.Combine(appDir, "appsettings.json")));
        Assert.True(File.Exists(Path.Combine(appDir, "wwwroot", "app.css")));
        Assert.True(File.Exists(Path.Combine(appDir, "wwwroot", "favicon.svg")));
        Assert.False(File.Exists(Path.Combine(appDir, "appsettings.Development.json")), "development settings must not ship");
        Assert.True(File.Exists(Path.Combine(appDir, "models", "t2istudio-tiny", "unet", "model.onnx")), "the embedded model ships beside the app");

        var start = new ProcessStartInfo("dotnet", ["T2IStudio.Web.dll"])
        {
            WorkingDirectory = appDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
                ["Storage__Root"] = Path.Combine(_work, "data"),
            },
        };
        using var app = Process.Start(start)!;
        try
        {
            var baseUrl = await WaitForListeningAddressAsync(app);
            using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(baseUrl) };

            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/health", UriKind.Relative))).StatusCode);
            foreach (var asset in new[] { "/app.css", "/favicon.svg", "/_framework/blazor.web.js", "/_content/MudBlazor/MudBlazor.min.css" })
            {
                var response = await http.GetAsync(new Uri(asset, UriKind.Relative));
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{asset} answered {(int)response.StatusCode} from the published app");
            }
            var login = await http.GetStringAsync(new Uri("/Account/Login", UriKind.Relative));
            Assert.Contains("Sign in", login, StringComparison.Ordinal);
            var root = await http.GetAsync(new Uri("/", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
            Assert.True(File.Exists(Path.Combine(_work, "data", "t2istudio.db")), "the database is created under Storage:Root");
        }
        finally
        {
            app.Kill(entireProcessTree: true);
            await app.WaitForExitAsync();
        }
    }

    private static async Task<string> WaitForListeningAddressAsync(Process app)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var seen = new System.Text.StringBuilder();
        while (await app.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            seen.AppendLine(line);
            var match = ListeningLine().Match(line);
            if (match.Success)
            {
                // Keep draining output so the app never blocks on a full pipe.
                _ = app.StandardOutput.ReadToEndAsync(CancellationToken.None);
                _ = app.StandardError.ReadToEndAsync(CancellationToken.None);
                return match.Groups[1].Value;
            }
        }
        throw new InvalidOperationException("The published app exited before listening:\n" + seen + await app.StandardError.ReadToEndAsync());
    }

    private static async Task<(int ExitCode, string Log)> RunToEndAsync(string file, string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();

    public void Dispose()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
            // The OS temp cleaner takes it.
        }
    }
}

using System.Diagnostics;
using System.Text.RegularExpressions;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>
/// The kill -9 drill (bench/T2IStudio.CrashDrill), a few cycles of it: the real app is SIGKILLed while it takes
/// jobs and inpaints, recovered, and its storage checked. The long run is documented in the README.
/// </summary>
public sealed partial class CrashDrillTests
{
    [Fact]
    public async Task Three_kill_9_cycles_lose_no_acknowledged_job_leave_nothing_running_and_no_orphan_or_dangling_file()
    {
        // Built next to this test project (same configuration) through the project reference.
        var configuration = Path.GetFileName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
        var drill = Path.Combine(RepositoryRoot.Path, "artifacts", "bin", "T2IStudio.CrashDrill", configuration, "T2IStudio.CrashDrill.dll");
        Assert.True(File.Exists(drill), $"{drill} is not built");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { drill, "--cycles", "3", "--seed", "7", "--max-kill-ms", "1500" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using (var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(5)))
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        var output = await stdout + await stderr;

        Assert.True(process.ExitCode == 0, output);
        var total = Total().Match(output);
        Assert.True(total.Success, output);
        Assert.Equal("3", total.Groups["cycles"].Value);
        Assert.True(int.Parse(total.Groups["acked"].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, output);
        Assert.Equal(total.Groups["acked"].Value, (int.Parse(total.Groups["completed"].Value, System.Globalization.CultureInfo.InvariantCulture)
            + int.Parse(total.Groups["interrupted"].Value, System.Globalization.CultureInfo.InvariantCulture)).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("lost=0 stuck-running=0 dangling-rows=0 orphan-files=0 integrity-failures=0 violations=0", total.Value, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"TOTAL cycles=(?<cycles>\d+) acknowledged=(?<acked>\d+) completed=(?<completed>\d+) requeued-at-kill=\d+ interrupted-twice=(?<interrupted>\d+) .*")]
    private static partial Regex Total();
}

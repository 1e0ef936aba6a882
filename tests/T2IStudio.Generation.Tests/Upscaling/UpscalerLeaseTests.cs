using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Onnx;
using static T2IStudio.Generation.Tests.Upscaling.UpscalerFixtures;

namespace T2IStudio.Generation.Tests.Upscaling;

public sealed class UpscalerLeaseTests
{
    [Fact]
    public void An_upscaler_loads_once_and_every_lease_lends_the_same_session_with_the_configured_tile_size()
    {
        using var host = Host(tileSize: 96);
        using var first = host.AcquireUpscaler("x4");
        using var second = host.AcquireUpscaler("x4");

        Assert.Same(first.Upscaler, second.Upscaler);
        Assert.Equal((96, 96), (first.Upscaler.TileWidth, first.Upscaler.TileHeight));
        Assert.Equal(["x4"], host.LoadedUpscalers);
        Assert.Throws<KeyNotFoundException>(() => host.AcquireUpscaler("no-such-upscaler"));
    }

    [Fact]
    public void A_host_disposed_under_a_lent_upscaler_frees_it_only_when_the_lease_comes_back()
    {
        var host = Host();
        var lease = host.AcquireUpscaler("x2");
        host.Dispose();

        Assert.Equal(["x2"], host.LoadedUpscalers);
        var result = lease.Upscaler.Upscale(Picture(16, 12), 2); // the session is still alive
        Assert.Equal((32, 24), (result.Width, result.Height));
        lease.Dispose();
        Assert.Empty(host.LoadedUpscalers);
        Assert.Throws<ObjectDisposedException>(() => host.AcquireUpscaler("x2"));
    }

    [Fact]
    public void A_host_disposed_with_no_lease_out_frees_its_upscalers_at_once()
    {
        var host = Host();
        host.AcquireUpscaler("x4").Dispose();
        Assert.Equal(["x4"], host.LoadedUpscalers);

        host.Dispose();
        Assert.Empty(host.LoadedUpscalers);
    }

    private static ModelHost Host(int tileSize = 192) =>
        new(Options.Create(new GenerationOptions { ModelRoots = [Root], Device = DevicePreference.Cpu, UpscaleTileSize = tileSize }),
            new TestEnvironment(), TimeProvider.System, NullLogger<ModelHost>.Instance);

    private sealed class TestEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Testing";
        public string ApplicationName { get; set; } = "tests";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}

using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Tests.Pipelines;

public sealed class ModelHostTests
{
    [Fact]
    public void A_model_loads_once_and_is_reused()
    {
        using var fixture = new FixtureModel(id: "reused");
        using var host = Host(fixture, new ManualClock());
        using var first = host.Acquire("reused");
        using var second = host.Acquire("reused");
        Assert.Same(first.Model, second.Model);
        Assert.Equal(["reused"], host.LoadedModels);
        Assert.Equal("cpu", first.Model.Device.Name);
    }

    [Fact]
    public void Idle_models_unload_after_the_configured_time_but_never_while_lent()
    {
        using var fixture = new FixtureModel(id: "idle");
        var clock = new ManualClock();
        using var host = Host(fixture, clock, unloadAfterMinutes: 10);
        var lease = host.Acquire("idle");
        clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Empty(host.UnloadIdle()); // still lent

        lease.Dispose();
        clock.Advance(TimeSpan.FromMinutes(9));
        Assert.Empty(host.UnloadIdle());
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(["idle"], host.UnloadIdle());
        Assert.Empty(host.LoadedModels);

        using var again = host.Acquire("idle"); // loads afresh
        Assert.Equal(["idle"], host.LoadedModels);
    }

    [Fact]
    public void Unknown_and_unavailable_models_are_refused_clearly()
    {
        using var fixture = new FixtureModel(id: "ok");
        Directory.CreateDirectory(Path.Combine(fixture.Root, "broken", "unet"));
        using var host = Host(fixture, new ManualClock());
        Assert.Throws<KeyNotFoundException>(() => host.Acquire("nope"));
        var error = Assert.Throws<InvalidOperationException>(() => host.Acquire("broken"));
        Assert.Contains("unavailable", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("unet_int64.onnx")]
    [InlineData("unet_inpaint9.onnx")]
    [InlineData("unet_lcm.onnx")]
    public async Task Warm_up_runs_one_step_for_every_kind_of_unet(string unet)
    {
        using var fixture = new FixtureModel(unet, id: "warm");
        using var host = Host(fixture, new ManualClock());
        await host.WarmUpAsync("warm");
        Assert.Equal(["warm"], host.LoadedModels);
    }

    [Fact]
    public async Task Warm_up_with_fixed_shapes_prepares_the_default_size()
    {
        using var fixture = new FixtureModel(id: "warm");
        using var host = Host(fixture, new ManualClock(), shapeSessions: 2);
        await host.WarmUpAsync("warm");
        using var lease = host.Acquire("warm");
        // 512 px (the default without a VAE config) at scale factor 8, guided: two rows of 64×64 latents.
        Assert.Equal(["batch=2,height=64,width=64"], lease.Model.Unet.FixedShapes);
    }

    [Fact]
    public async Task Disposing_the_host_under_a_running_generation_keeps_the_lent_model_until_its_lease_returns()
    {
        using var fixture = new FixtureModel(id: "busy");
        var host = Host(fixture, new ManualClock());
        var lease = host.Acquire("busy");

        host.Dispose(); // the web host stopping while a worker's step still runs

        Assert.Equal(["busy"], host.LoadedModels);
        var side = lease.Model.Traits.VaeScaleFactor * 8;
        var result = await new StableDiffusionPipeline(lease.Model) { PreviewEvery = 0 }.GenerateAsync(
            new GenerationRequest { Prompt = "", Steps = 1, Width = side, Height = side, Scheduler = SchedulerKind.Euler, GuidanceScale = 2 }, null, CancellationToken.None);
        Assert.Single(result.Images);

        lease.Dispose();
        Assert.Empty(host.LoadedModels);
        Assert.Throws<ObjectDisposedException>(() => host.Acquire("busy"));
    }

    private static ModelHost Host(FixtureModel fixture, TimeProvider clock, int unloadAfterMinutes = 30, int? shapeSessions = null) =>
        new(Options.Create(new GenerationOptions { ModelRoots = [fixture.Root], Device = DevicePreference.Cpu, UnloadAfterMinutes = unloadAfterMinutes, ShapeSessions = shapeSessions }),
            new TestEnvironment(), clock, NullLogger<ModelHost>.Instance);

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    private sealed class TestEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Testing";
        public string ApplicationName { get; set; } = "tests";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}

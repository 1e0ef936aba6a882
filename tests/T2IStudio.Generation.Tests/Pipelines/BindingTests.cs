using Microsoft.ML.OnnxRuntime;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Tests.Pipelines;

/// <summary>IOBinding (constants bound once) and sessions with free dimensions fixed to the sizes in use.</summary>
public sealed class BindingTests
{
    private static GenerationRequest Request(int size = 64, int batch = 1) => new()
    {
        Prompt = "a red circle",
        NegativePrompt = "blurry",
        Steps = 4,
        GuidanceScale = 7.5,
        Width = size,
        Height = size,
        Seed = 42,
        BatchSize = batch,
        Scheduler = SchedulerKind.EulerAncestral,
    };

    [Fact]
    public async Task Fixed_shape_sessions_make_the_same_image_as_the_free_session()
    {
        using var fixture = new FixtureModel();
        using var free = fixture.Load(shapeSessions: 0);
        using var shaped = fixture.Load(shapeSessions: 2);

        var expected = (await FixtureModel.Pipeline(free).GenerateAsync(Request())).Images[0].Pixels;
        var actual = (await FixtureModel.Pipeline(shaped).GenerateAsync(Request())).Images[0].Pixels;

        Assert.Equal(expected, actual);
        Assert.Empty(free.Unet.FixedShapes);
        // Guided batch of one = two UNet rows; the 64-px image is 8×8 latents.
        Assert.Equal(["batch=2,height=8,width=8"], shaped.Unet.FixedShapes);
        Assert.Equal(["batch=1"], shaped.TextEncoder.FixedShapes);
        Assert.Equal(["batch=1,height=8,width=8"], shaped.VaeDecoder.FixedShapes);
    }

    [Fact]
    public void A_fixed_shape_session_really_has_its_sizes_fixed()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load(shapeSessions: 1);
        var hidden = ComponentInput.OfFloats("encoder_hidden_states", new float[77 * 8], 1, 77, 8);
        using var binding = model.Unet.Bind([("sample", [1, 4, 8, 8]), ("timestep", [1]), (hidden.Name, hidden.Shape)]);
        binding.BindConstant(hidden);

        var fits = binding.Run([ComponentInput.OfFloats("sample", new float[4 * 8 * 8], 1, 4, 8, 8), ComponentInput.OfIntegers("timestep", [1], 1)]);
        Assert.Equal([1L, 4, 8, 8], fits.Shape);
        Assert.Throws<OnnxRuntimeException>(() =>
            binding.Run([ComponentInput.OfFloats("sample", new float[4 * 16 * 16], 1, 4, 16, 16), ComponentInput.OfIntegers("timestep", [1], 1)]));
    }

    [Fact]
    public void Constants_bound_once_serve_every_later_run()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load();
        float[] context = [.. Enumerable.Range(0, 77 * 8).Select(i => (i % 13) / 10f)];
        var hidden = ComponentInput.OfFloats("encoder_hidden_states", context, 1, 77, 8);
        using var binding = model.Unet.Bind([("sample", [1, 4, 8, 8]), ("timestep", [1]), (hidden.Name, hidden.Shape)]);
        binding.BindConstant(hidden);

        foreach (var (offset, timestep) in new[] { (0f, 1L), (3f, 501L), (-1f, 999L) })
        {
            ComponentInput[] changing =
            [
                ComponentInput.OfFloats("sample", [.. Enumerable.Range(0, 256).Select(i => i / 64f + offset)], 1, 4, 8, 8),
                ComponentInput.OfIntegers("timestep", [timestep], 1),
            ];
            var bound = binding.Run(changing);
            var unbound = model.Unet.Run([.. changing, hidden]);
            Assert.Equal(unbound.Values, bound.Values);
            Assert.Equal(0.5 * (255 / 64f + offset) + FixtureMath.Mean(context) + 1e-4 * timestep, bound.Values[255], 5);
        }
    }

    [Fact]
    public void The_least_recently_used_size_goes_but_never_while_a_binding_runs_on_it()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load(shapeSessions: 1);
        (string, long[])[] Shapes(int size) => [("sample", [1, 4, size, size]), ("timestep", [1]), ("encoder_hidden_states", [1, 77, 8])];

        var small = model.Unet.Bind(Shapes(8));
        using (model.Unet.Bind(Shapes(16)))
        {
            Assert.Equal(["batch=1,height=16,width=16", "batch=1,height=8,width=8"], model.Unet.FixedShapes);
            small.Dispose(); // released: now it can go
            Assert.Equal(["batch=1,height=16,width=16"], model.Unet.FixedShapes);
        }
        using (model.Unet.Bind(Shapes(16)))
        {
            Assert.Equal(2, model.Unet.ShapeSessionsCreated); // reused, not loaded again
        }
    }

    [Fact]
    public async Task Every_size_in_use_keeps_its_session_up_to_the_limit()
    {
        using var fixture = new FixtureModel();
        using var model = fixture.Load(shapeSessions: 2);
        var pipeline = FixtureModel.Pipeline(model);

        await pipeline.GenerateAsync(Request(64));
        await pipeline.GenerateAsync(Request(128));
        await pipeline.GenerateAsync(Request(64));
        Assert.Equal(2, model.Unet.ShapeSessionsCreated);
        await pipeline.GenerateAsync(Request(64, batch: 2));

        Assert.Equal(["batch=4,height=8,width=8", "batch=2,height=8,width=8"], model.Unet.FixedShapes);
        Assert.Equal(3, model.Unet.ShapeSessionsCreated);
    }

    [Fact]
    public void The_cpu_keeps_one_free_session_unless_told_otherwise()
    {
        Assert.Equal(0, new ExecutionDevice(DevicePreference.Cpu).ShapeSessions);
        Assert.Equal(3, new ExecutionDevice(DevicePreference.Cpu, shapeSessions: 3).ShapeSessions);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExecutionDevice(DevicePreference.Cpu, shapeSessions: -1));
    }
}

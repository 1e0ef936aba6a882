using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Noise;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Pipelines;

/// <summary>
/// The denoising loop with its tensors resident on the model's device (<see cref="ExecutionDevice.ResidentLatents"/>):
/// the latents, the UNet's input and output and the sampler's history live in device memory from the first
/// step to the last. Per step, a small graph builds the UNet input (input scaling, the guided batch, the
/// inpainting channels), the UNet writes its output in place, and a second small graph applies guidance,
/// the sampler step (<see cref="Scheduler.PlanStep"/>) and the inpainting blend. What crosses from the host
/// per step is the timestep, a handful of coefficients and, for ancestral and consistency samplers, the
/// step's noise (drawn on the host so a seed stays a seed); the latents come back only for a preview and at
/// the end.
/// </summary>
internal sealed class ResidentLatents : IDisposable
{
    private readonly DeviceGraphs _graphs;
    private readonly StableDiffusionPipeline.UnetRun _unet;
    private readonly long[] _latentShape;
    private readonly int _length;
    private readonly bool _guided;
    private readonly float _guidance;
    private readonly TensorElementType _outputType;
    private readonly InferenceSession _prepare;
    private readonly List<OrtValue> _owned = [];
    private readonly OrtValue _unetInput;
    private readonly OrtValue _unetOutput;
    private readonly OrtValue? _extra;
    private readonly KnownOnDevice? _known;
    private readonly OrtValue?[] _slots = new OrtValue?[LinearStep.SlotCount];
    private readonly OrtValue?[] _spareSlots = new OrtValue?[LinearStep.SlotCount];
    private OrtValue _latents;
    private OrtValue _spareLatents;

    /// <summary>Uploads <paramref name="latents"/> and the run's constants; the UNet must have one binding (<see cref="StableDiffusionPipeline.UnetRun.Binding"/>).</summary>
    public ResidentLatents(LoadedModel model, StableDiffusionPipeline.UnetRun unet, float[] latents, float[]? extraChannels, KnownLatents? known)
    {
        _graphs = model.Graphs;
        _unet = unet;
        _ = unet.Binding ?? throw new InvalidOperationException("Resident latents need the UNet batch in one binding.");
        var shape = unet.Shape;
        var rows = unet.Conditioning.Rows;
        _guided = unet.Conditioning.Guided;
        _guidance = (float)unet.Conditioning.Guidance;
        _latentShape = [shape.Batch, unet.OutputChannels, shape.Height, shape.Width];
        _length = latents.Length;
        var inputType = model.Unet.Inputs["sample"].ElementType;
        _outputType = model.Unet.OutputTypes[model.Unet.OutputNames[0]];
        var extraPerRow = extraChannels is null ? 0 : unet.InputChannels - unet.OutputChannels;
        _prepare = _graphs.Get($"prepare guided={_guided} extra={extraPerRow > 0} in={inputType}", () => PrepareGraph(_guided, extraPerRow > 0, inputType));
        try
        {
            _unetInput = Own(_graphs.Allocate(inputType, [rows, unet.InputChannels, shape.Height, shape.Width]));
            _unetOutput = Own(_graphs.Allocate(_outputType, [rows, unet.OutputChannels, shape.Height, shape.Width]));
            _latents = Upload(latents, _latentShape);
            _spareLatents = Own(_graphs.Allocate(TensorElementType.Float, _latentShape));
            if (extraChannels is not null)
            {
                // Row r of the UNet batch sees image r mod batch, as the host loop lays it out: the batch once per half.
                _extra = Upload(StableDiffusionPipeline.Repeat(extraChannels, rows / shape.Batch), [rows, extraPerRow, shape.Height, shape.Width]);
            }
            if (known is not null)
            {
                _known = KnownOnDevice.Upload(this, known, shape);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>One step: UNet input, UNet, then guidance + sampler step (+ blend) on the device.</summary>
    public void Step(Scheduler scheduler, int stepIndex, int firstStepIndex, GaussianNoise stepNoise, RunOptions runOptions, CancellationToken cancellationToken)
    {
        using (var prepare = _prepare.CreateIoBinding())
        using (var scale = Scalar(scheduler.ModelInputScale(stepIndex)))
        {
            prepare.BindInput("x", _latents);
            prepare.BindInput("scale", scale);
            if (_extra is not null)
            {
                prepare.BindInput("extra", _extra);
            }
            prepare.BindOutput("sample", _unetInput);
            _prepare.RunWithBinding(runOptions, prepare);
        }

        _unet.RunResident(_unetInput, _unetOutput, scheduler.Timesteps[stepIndex], runOptions, cancellationToken);

        var plan = scheduler.PlanStep(stepIndex, firstStepIndex);
        var session = _graphs.Get(
            $"step {plan.Signature} guided={_guided} out={_outputType} known={_known is not null}",
            () => StepGraph(plan, _guided, _outputType, _known is not null));
        var hosts = new List<OrtValue>();
        try
        {
            using var step = session.CreateIoBinding();
            void BindHost(string name, OrtValue value)
            {
                hosts.Add(value);
                step.BindInput(name, value);
            }
            step.BindInput("x", _latents);
            step.BindInput("unet", _unetOutput);
            if (_guided)
            {
                BindHost("w", Scalar(_guidance));
            }
            if (plan.UsesNoise)
            {
                var fresh = new float[_length];
                stepNoise.Fill(fresh);
                BindHost("noise", OrtValue.CreateTensorValueFromMemory(fresh, _latentShape));
            }
            foreach (var slot in plan.SlotsRead)
            {
                step.BindInput($"s{slot}", _slots[slot] ?? throw new InvalidOperationException($"Slot {slot} is read before it is written."));
            }
            var k = 0;
            foreach (var coefficient in plan.Coefficients)
            {
                BindHost($"k{k++}", Scalar(coefficient));
            }
            if (_known is not null)
            {
                var (a, b) = stepIndex < scheduler.Timesteps.Count - 1 ? scheduler.NoiseScales(stepIndex + 1) : (1.0, 0.0);
                _known.Bind(step);
                BindHost("a", Scalar(a));
                BindHost("b", Scalar(b));
            }
            step.BindOutput("x_out", _spareLatents);
            foreach (var update in plan.Slots)
            {
                _spareSlots[update.Slot] ??= Own(_graphs.Allocate(TensorElementType.Float, _latentShape));
                step.BindOutput($"s{update.Slot}_out", _spareSlots[update.Slot]!);
            }
            session.RunWithBinding(runOptions, step);
        }
        finally
        {
            hosts.ForEach(v => v.Dispose());
        }
        (_latents, _spareLatents) = (_spareLatents, _latents);
        foreach (var update in plan.Slots)
        {
            (_slots[update.Slot], _spareSlots[update.Slot]) = (_spareSlots[update.Slot], _slots[update.Slot]);
        }
    }

    /// <summary>The latents, copied to the host (a preview, or the end of the loop).</summary>
    public float[] Read()
    {
        var result = new float[_length];
        _graphs.Download(_latents, result);
        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var value in _owned)
        {
            value.Dispose();
        }
        _owned.Clear();
    }

    private OrtValue Own(OrtValue value)
    {
        _owned.Add(value);
        return value;
    }

    private OrtValue Upload(float[] values, long[] shape) => Own(_graphs.Upload(values, shape));

    private static OrtValue Scalar(double value) => OrtValue.CreateTensorValueFromMemory(new[] { (float)value }, []);

    // sample = [x·scale (twice when guided)] ‖ extra channels, in the UNet's element type.
    private static byte[] PrepareGraph(bool guided, bool extra, TensorElementType inputType)
    {
        var g = new OnnxGraphWriter();
        var x = g.Binary("Mul", g.Input("x", TensorElementType.Float), g.Input("scale", TensorElementType.Float, scalar: true));
        if (guided)
        {
            x = g.Node("Concat", [x, x], attributes: new Dictionary<string, long> { ["axis"] = 0 });
        }
        if (extra)
        {
            x = g.Node("Concat", [x, g.Input("extra", TensorElementType.Float)], attributes: new Dictionary<string, long> { ["axis"] = 1 });
        }
        if (inputType != TensorElementType.Float)
        {
            x = g.Node("Cast", [x], attributes: new Dictionary<string, long> { ["to"] = (long)inputType });
        }
        g.Output(x, "sample", inputType);
        return g.ToBytes("prepare");
    }

    // x_out = Σ kᵢ·operandᵢ with the model output guided as u + w·(c − u); then the known-latents blend; slots likewise.
    private static byte[] StepGraph(LinearStep plan, bool guided, TensorElementType outputType, bool known)
    {
        var g = new OnnxGraphWriter();
        var x = g.Input("x", TensorElementType.Float);
        var output = g.Input("unet", outputType);
        if (outputType != TensorElementType.Float)
        {
            output = g.Node("Cast", [output], attributes: new Dictionary<string, long> { ["to"] = (long)TensorElementType.Float });
        }
        if (guided)
        {
            var w = g.Input("w", TensorElementType.Float, scalar: true);
            var halves = g.Node("Split", [output], ["uncond", "cond"], new Dictionary<string, long> { ["axis"] = 0 });
            output = g.Binary("Add", halves, g.Binary("Mul", w, g.Binary("Sub", "cond", halves)));
        }
        var operands = new Dictionary<StepOperand, string> { [StepOperand.Sample] = x, [StepOperand.ModelOutput] = output };
        if (plan.UsesNoise)
        {
            operands[StepOperand.Noise] = g.Input("noise", TensorElementType.Float);
        }
        foreach (var slot in plan.SlotsRead)
        {
            operands[StepOperand.Slot0 + slot] = g.Input($"s{slot}", TensorElementType.Float);
        }
        var k = 0;
        string Combination(IReadOnlyList<StepTerm> terms)
        {
            string? sum = null;
            foreach (var term in terms)
            {
                var product = g.Binary("Mul", operands[term.Operand], g.Input($"k{k++}", TensorElementType.Float, scalar: true));
                sum = sum is null ? product : g.Binary("Add", sum, product);
            }
            return sum ?? throw new InvalidOperationException("A step combination has no terms.");
        }
        var next = Combination(plan.Sample);
        var slots = plan.Slots.Select(s => (s.Slot, Value: Combination(s.Value))).ToList();
        if (known)
        {
            // mask·x + a·(1 − mask)·image + b·(1 − mask)·noise: outside the mask, the image noised to the next level.
            var keep = g.Binary("Add",
                g.Binary("Mul", g.Input("keep_image", TensorElementType.Float), g.Input("a", TensorElementType.Float, scalar: true)),
                g.Binary("Mul", g.Input("keep_noise", TensorElementType.Float), g.Input("b", TensorElementType.Float, scalar: true)));
            next = g.Binary("Add", g.Binary("Mul", next, g.Input("mask", TensorElementType.Float)), keep);
        }
        g.Output(next, "x_out", TensorElementType.Float);
        foreach (var (slot, value) in slots)
        {
            g.Output(value, $"s{slot}_out", TensorElementType.Float);
        }
        return g.ToBytes("step");
    }

    /// <summary>The inpainting blend's constants on the device: the mask plane, (1 − mask)·image and (1 − mask)·noise.</summary>
    private sealed class KnownOnDevice(OrtValue mask, OrtValue keepImage, OrtValue keepNoise)
    {
        public static KnownOnDevice Upload(ResidentLatents owner, KnownLatents known, StableDiffusionPipeline.LatentBatch shape)
        {
            var plane = known.MaskPlane.Length;
            var keepImage = new float[known.Image.Length];
            var keepNoise = new float[known.Noise.Length];
            for (var i = 0; i < keepImage.Length; i++)
            {
                var keep = 1 - known.MaskPlane[i % plane];
                keepImage[i] = keep * known.Image[i];
                keepNoise[i] = keep * known.Noise[i];
            }
            return new KnownOnDevice(
                owner.Upload(known.MaskPlane, [1, 1, shape.Height, shape.Width]),
                owner.Upload(keepImage, owner._latentShape),
                owner.Upload(keepNoise, owner._latentShape));
        }

        public void Bind(OrtIoBinding binding)
        {
            binding.BindInput("mask", mask);
            binding.BindInput("keep_image", keepImage);
            binding.BindInput("keep_noise", keepNoise);
        }
    }
}

/// <summary>What an inpainting run with an ordinary UNet puts back outside the mask after each step.</summary>
/// <param name="MaskPlane">The latent-resolution mask (1 = repaint), one plane shared by every channel and image.</param>
/// <param name="Image">The image latents for the whole batch.</param>
/// <param name="Noise">The run's initial noise, which noises them to each step's level.</param>
internal sealed record KnownLatents(float[] MaskPlane, float[] Image, float[] Noise);

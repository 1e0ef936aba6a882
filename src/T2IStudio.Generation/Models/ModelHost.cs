using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.Models;

/// <summary>A loaded model lent to one generation; dispose it to give it back.</summary>
public sealed class ModelLease : IDisposable
{
    private readonly Action _release;
    private int _released;

    internal ModelLease(LoadedModel model, Action release)
    {
        Model = model;
        _release = release;
    }

    /// <summary>The model's sessions.</summary>
    public LoadedModel Model { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _release();
        }
    }
}

/// <summary>
/// Owns the catalog, the execution device and the loaded models: a model's sessions are created on first
/// use, reused by every later generation, and released after <see cref="GenerationOptions.UnloadAfterMinutes"/>
/// without a lease.
/// </summary>
public sealed partial class ModelHost : IDisposable
{
    private readonly Dictionary<string, Entry> _loaded = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Tokenization.ClipTokenizer>> _tokenizers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UpscalerEntry> _upscalers = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private bool _disposed;
    private readonly GenerationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ModelHost> _logger;
    private readonly IReadOnlyList<string> _roots;
    private readonly Lock _stampGate = new();
    private string? _embeddingStamp;
    private DateTimeOffset _stampCheckedAt;

    /// <summary>How often the counting tokenizers look whether the embeddings folders changed (names, sizes, write times).</summary>
    public static readonly TimeSpan EmbeddingCheckInterval = TimeSpan.FromSeconds(2);

    /// <summary>Creates the host over the configured roots (relative to <paramref name="environment"/>'s content root).</summary>
    public ModelHost(IOptions<GenerationOptions> options, IHostEnvironment environment, TimeProvider time, ILogger<ModelHost> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        _options = options.Value;
        _time = time;
        _logger = logger;
        var roots = _options.EffectiveModelRoots.Select(r => Path.IsPathRooted(r) ? r : Path.Combine(environment.ContentRootPath, r)).ToList();
        _roots = roots;
        Catalog = new ModelCatalog(roots);
        Upscalers = new Upscaling.UpscalerCatalog(roots);
        Device = new ExecutionDevice(_options.Device, _options.DeviceId, _options.ShapeSessions, _options.ResidentLatents);
    }

    /// <summary>The model folders under the configured roots.</summary>
    public ModelCatalog Catalog { get; }

    /// <summary>The upscaler folders (<c>upscalers/ID</c>) under the configured roots.</summary>
    public Upscaling.UpscalerCatalog Upscalers { get; }

    /// <summary>
    /// The textual-inversion embeddings under <c>embeddings/</c> of each root, read now (a model takes the ones
    /// there when it loads), with the files that cannot be used and why.
    /// </summary>
    public TextualInversion.EmbeddingLibrary Embeddings => TextualInversion.EmbeddingLibrary.Scan(_roots);

    /// <summary>The execution device (the active one and why: <see cref="ExecutionDevice.Active"/>).</summary>
    public ExecutionDevice Device { get; }

    /// <summary>Images per UNet call when jobs are batched: <c>Generation:MaxBatch</c>, or the device's default.</summary>
    public int MaxBatch => _options.MaxBatch ?? GenerationOptions.DefaultMaxBatch(Device.Active.IsCuda);

    /// <summary>Ids of the models whose sessions are loaded now.</summary>
    public IReadOnlyList<string> LoadedModels
    {
        get
        {
            lock (_gate)
            {
                return [.. _loaded.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Ids of the upscalers whose sessions are loaded now.</summary>
    public IReadOnlyList<string> LoadedUpscalers
    {
        get
        {
            lock (_gate)
            {
                return [.. _upscalers.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Lends the model <paramref name="id"/>, loading it on first use.</summary>
    /// <exception cref="KeyNotFoundException">No such model.</exception>
    /// <exception cref="InvalidOperationException">The model is unavailable.</exception>
    public ModelLease Acquire(string id)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_loaded.TryGetValue(id, out var entry))
            {
                var info = Catalog.Find(id) ?? throw new KeyNotFoundException($"There is no model '{id}'.");
                var model = LoadedModel.Load(info, Device, ScanEmbeddings());
                LogLoaded(id, model.Device.Name, model.Device.Reason);
                foreach (var refused in model.Embeddings.Refused.Concat(model.SecondEmbeddings?.Refused ?? []))
                {
                    LogEmbeddingRefused(id, refused.Trigger, refused.Reason);
                }
                entry = new Entry(id, model);
                _loaded[id] = entry;
            }
            entry.Leases++;
            entry.LastUsed = _time.GetUtcNow();
            return new ModelLease(entry.Model, () => Release(entry));
        }
    }

    /// <summary>
    /// Lends the upscaler <paramref name="id"/>, loading it on first use (tiles of
    /// <see cref="GenerationOptions.UpscaleTileSize"/>). Upscalers are small (a few MB): once loaded they stay
    /// until the host is disposed, which frees a lent one only when its last lease comes back.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such upscaler.</exception>
    /// <exception cref="InvalidOperationException">The upscaler is unavailable.</exception>
    public Upscaling.UpscalerLease AcquireUpscaler(string id)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_upscalers.TryGetValue(id, out var entry))
            {
                var info = Upscalers.Find(id) ?? throw new KeyNotFoundException($"There is no upscaler '{id}'.");
                entry = new UpscalerEntry(id, Upscaling.LoadedUpscaler.Load(info, Device, _options.UpscaleTileSize));
                _upscalers[id] = entry;
            }
            entry.Leases++;
            return new Upscaling.UpscalerLease(entry.Upscaler, () => Release(entry));
        }
    }

    /// <summary>
    /// The tokenizer of model <paramref name="id"/>, read once from its folder without loading any ONNX session
    /// (the prompt editor counts tokens as people type). It knows the trigger words of the embeddings as wide as
    /// the model's text encoder, so a trigger counts as its vectors; one that does not fit counts as plain words
    /// here (the generation refuses it with the reason). Embeddings added, changed or removed later are seen
    /// within <see cref="EmbeddingCheckInterval"/>: the cached tokenizers are dropped when the folders change.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such model.</exception>
    public Tokenization.ClipTokenizer Tokenizer(string id)
    {
        ForgetTokenizersIfEmbeddingsChanged();
        var lazy = _tokenizers.GetOrAdd(id, key => new Lazy<Tokenization.ClipTokenizer>(() =>
        {
            var info = Catalog.Find(key) ?? throw new KeyNotFoundException($"There is no model '{key}'.");
            var tokenizer = Tokenization.ClipTokenizer.FromFolder(Path.Combine(info.Folder, "tokenizer"));
            if (info.Traits is not { } traits)
            {
                return tokenizer;
            }
            // The hidden width is the token table's width in SD exports; the ids only need to be distinct for counting.
            var fit = traits.Xl is { } xl
                ? ScanEmbeddings().Fit(TextualInversion.TextEncoderKeys.Primary, xl.FirstTextWidth, ClipTokenizer.VocabularySize, twoEncoders: true)
                : ScanEmbeddings().Fit(TextualInversion.TextEncoderKeys.Primary, traits.TextWidth, ClipTokenizer.VocabularySize);
            return fit.Added.Count == 0 ? tokenizer : tokenizer.WithAddedTokens(fit.Added);
        }));
        try
        {
            return lazy.Value;
        }
        catch
        {
            _tokenizers.TryRemove(id, out _); // a model added later may still appear under this id
            throw;
        }
    }

    /// <summary>
    /// The tokenizer of model <paramref name="id"/>, or null (logged) when its folder has none that can be read:
    /// a page then shows no token count rather than failing.
    /// </summary>
    public Tokenization.ClipTokenizer? TryGetTokenizer(string id)
    {
        try
        {
            return Tokenizer(id);
        }
        catch (Exception ex) when (ex is IOException or KeyNotFoundException or InvalidDataException or System.Text.Json.JsonException)
        {
            LogNoTokenizer(ex, id);
            return null;
        }
    }

    /// <summary>Releases models that no lease holds and nobody used for the configured time; returns their ids.</summary>
    public IReadOnlyList<string> UnloadIdle()
    {
        if (_options.UnloadAfterMinutes == 0)
        {
            return [];
        }
        var cutoff = _time.GetUtcNow() - TimeSpan.FromMinutes(_options.UnloadAfterMinutes);
        lock (_gate)
        {
            var idle = _loaded.Where(kv => kv.Value.Leases == 0 && kv.Value.LastUsed <= cutoff).Select(kv => kv.Key).ToList();
            foreach (var id in idle)
            {
                _loaded[id].Model.Dispose();
                _loaded.Remove(id);
                LogUnloaded(id);
            }
            return idle;
        }
    }

    /// <summary>
    /// Loads <paramref name="id"/> and runs one step so the first real job does not pay for graph
    /// initialisation: a tiny one, or — where sessions are fixed to the sizes in use — one at the model's
    /// default size, so that size's sessions exist and are initialised before the first job.
    /// </summary>
    public async Task WarmUpAsync(string id, CancellationToken cancellationToken = default)
    {
        using var lease = Acquire(id);
        var traits = lease.Model.Traits;
        var defaults = traits.Defaults;
        var fixedShapes = Device.ShapeSessions > 0;
        int width = fixedShapes ? defaults.Width : traits.VaeScaleFactor * 8, height = fixedShapes ? defaults.Height : traits.VaeScaleFactor * 8;
        var pipeline = new StableDiffusionPipeline(lease.Model) { PreviewEvery = 0 };
        var request = new GenerationRequest
        {
            Prompt = "",
            Steps = 1,
            Width = width,
            Height = height,
            Scheduler = traits.IsLcm ? SchedulerKind.Lcm : SchedulerKind.Euler,
            GuidanceScale = traits.IsLcm ? 8 : 2,
            InitImage = traits.IsInpainting ? Imaging.RgbImage.Filled(width, height, 128, 128, 128) : null,
        };
        if (traits.IsInpainting)
        {
            var mask = new Imaging.GrayMask(width, height, Enumerable.Repeat((byte)255, width * height).ToArray());
            await pipeline.InpaintAsync(request, new InpaintOptions { Mask = mask, MaskBlur = 0 }, null, cancellationToken);
        }
        else
        {
            await pipeline.GenerateAsync(request, null, cancellationToken);
        }
        LogWarmedUp(id);
    }

    /// <inheritdoc />
    /// <remarks>
    /// A model still lent (a host stopping under a running job, whose step outlives the shutdown timeout) is
    /// released when its last lease comes back: disposing sessions under a running <c>Run</c> is a native
    /// use-after-free that takes the whole process down.
    /// </remarks>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var (id, entry) in _upscalers.Where(kv => kv.Value.Leases == 0).ToList())
            {
                entry.Upscaler.Dispose();
                _upscalers.Remove(id);
            }
            foreach (var (id, entry) in _loaded.Where(kv => kv.Value.Leases == 0).ToList())
            {
                entry.Model.Dispose();
                _loaded.Remove(id);
            }
        }
    }

    private void Release(Entry entry)
    {
        lock (_gate)
        {
            entry.Leases--;
            entry.LastUsed = _time.GetUtcNow();
            if (_disposed && entry.Leases == 0 && _loaded.Remove(entry.Id))
            {
                entry.Model.Dispose();
            }
        }
    }

    private void ForgetTokenizersIfEmbeddingsChanged()
    {
        var now = _time.GetUtcNow();
        lock (_stampGate)
        {
            if (_embeddingStamp is not null && now - _stampCheckedAt < EmbeddingCheckInterval)
            {
                return;
            }
            _stampCheckedAt = now;
            var stamp = EmbeddingStamp();
            if (_embeddingStamp is not null && stamp != _embeddingStamp)
            {
                _tokenizers.Clear();
            }
            _embeddingStamp = stamp;
        }
    }

    // The names, sizes and write times of the files in each root's embeddings folder (and its NAME/ folders): no file is opened.
    private string EmbeddingStamp()
    {
        var stamp = new System.Text.StringBuilder();
        var options = new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 1, IgnoreInaccessible = true };
        foreach (var root in _roots)
        {
            var folder = new DirectoryInfo(Path.Combine(root, TextualInversion.EmbeddingLibrary.FolderName));
            try
            {
                if (!folder.Exists)
                {
                    continue;
                }
                foreach (var file in folder.EnumerateFiles("*", options).OrderBy(f => f.FullName, StringComparer.Ordinal))
                {
                    stamp.Append(file.FullName).Append('|').Append(file.Length).Append('|').Append(file.LastWriteTimeUtc.Ticks).Append('\n');
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                stamp.Append(folder.FullName).Append("|unreadable\n");
            }
        }
        return stamp.ToString();
    }

    private TextualInversion.EmbeddingLibrary ScanEmbeddings()
    {
        var library = Embeddings;
        foreach (var problem in library.Problems)
        {
            LogEmbeddingProblem(problem.Path, problem.Reason);
        }
        return library;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Embedding {Path} is not used: {Reason}")]
    private partial void LogEmbeddingProblem(string path, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {ModelId} cannot take the embedding '{Trigger}': {Reason}")]
    private partial void LogEmbeddingRefused(string modelId, string trigger, string reason);

    private void Release(UpscalerEntry entry)
    {
        lock (_gate)
        {
            entry.Leases--;
            if (_disposed && entry.Leases == 0 && _upscalers.Remove(entry.Id))
            {
                entry.Upscaler.Dispose();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Id} has no readable tokenizer")]
    private partial void LogNoTokenizer(Exception ex, string id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded model {ModelId} on {Device}: {Reason}")]
    private partial void LogLoaded(string modelId, string device, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Unloaded idle model {ModelId}.")]
    private partial void LogUnloaded(string modelId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Warmed up model {ModelId}.")]
    private partial void LogWarmedUp(string modelId);

    private sealed class Entry(string id, LoadedModel model)
    {
        public string Id { get; } = id;

        public LoadedModel Model { get; } = model;

        public int Leases { get; set; }

        public DateTimeOffset LastUsed { get; set; }
    }

    private sealed class UpscalerEntry(string id, Upscaling.LoadedUpscaler upscaler)
    {
        public string Id { get; } = id;

        public Upscaling.LoadedUpscaler Upscaler { get; } = upscaler;

        public int Leases { get; set; }
    }
}

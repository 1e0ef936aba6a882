namespace T2IStudio.Generation.Upscaling;

/// <summary>
/// A loaded upscaler lent to one job; dispose it to give it back. The host frees the session only when no lease
/// holds it, so a host stopping under a running upscale never disposes a session inside its run.
/// </summary>
public sealed class UpscalerLease : IDisposable
{
    private readonly Action _release;
    private int _released;

    internal UpscalerLease(LoadedUpscaler upscaler, Action release)
    {
        Upscaler = upscaler;
        _release = release;
    }

    /// <summary>The upscaler's session.</summary>
    public LoadedUpscaler Upscaler { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _release();
        }
    }
}

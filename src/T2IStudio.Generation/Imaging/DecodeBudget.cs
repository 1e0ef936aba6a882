using System.Buffers;
using System.Runtime.CompilerServices;
using SixLabors.ImageSharp.Memory;

namespace T2IStudio.Generation.Imaging;

/// <summary>
/// ImageSharp's memory for one decode: plain managed arrays (so the GC's own counters see them), counted while
/// they are held, and refused once more than the budget would be held at once. Every allocation also checks the
/// decode's cancellation, so a slow decode stops at its next buffer.
/// </summary>
internal sealed class DecodeBudget : MemoryAllocator
{
    private readonly SimpleGcMemoryAllocator _arrays = new();
    private readonly long _budget;
    private readonly CancellationToken _cancellation;
    private long _held;
    private long _peak;

    public DecodeBudget(long budget, CancellationToken cancellation)
    {
        _budget = budget;
        _cancellation = cancellation;
    }

    /// <summary>The most bytes held at once so far.</summary>
    public long PeakBytes => Interlocked.Read(ref _peak);

    /// <inheritdoc />
    protected override int GetBufferCapacityInBytes() => int.MaxValue;

    /// <inheritdoc />
    public override IMemoryOwner<T> Allocate<T>(int length, AllocationOptions options = AllocationOptions.None)
    {
        _cancellation.ThrowIfCancellationRequested();
        var bytes = (long)length * Unsafe.SizeOf<T>();
        var held = Interlocked.Add(ref _held, bytes);
        if (held > _budget)
        {
            Interlocked.Add(ref _held, -bytes);
            throw new InvalidMemoryOperationException($"Decoding would hold more than {_budget} bytes.");
        }
        long peak;
        while (held > (peak = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, held, peak) != peak)
        {
        }
        return new Counted<T>(_arrays.Allocate<T>(length, options), this, bytes);
    }

    private void Release(long bytes) => Interlocked.Add(ref _held, -bytes);

    private sealed class Counted<T>(IMemoryOwner<T> inner, DecodeBudget budget, long bytes) : IMemoryOwner<T>
    {
        private int _disposed;

        public Memory<T> Memory => inner.Memory;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                inner.Dispose();
                budget.Release(bytes);
            }
        }
    }
}

namespace T2IStudio.Generation.Noise;

/// <summary>Fresh seeds for "random" runs.</summary>
public static class Seeds
{
    /// <summary>A random seed in the 32-bit range people are used to reading and typing (as A1111 shows them).</summary>
    public static ulong NewRandom() => (ulong)Random.Shared.NextInt64(0, uint.MaxValue);
}

using System.Buffers.Binary;
using System.Security.Cryptography;

namespace T2IStudio.Web.Auth.TwoFactor;

/// <summary>
/// RFC 6238 time-based one-time passwords as authenticator apps make them (HMAC-SHA1, 30-second steps, 6 digits),
/// from the Base32 key Identity generates. Identity keeps its own copy internal; the replay guard needs the matching
/// time step, which Identity's provider does not tell.
/// </summary>
internal static class Totp
{
    /// <summary>Seconds per time step.</summary>
    public const int StepSeconds = 30;

    private const string Base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    /// <summary>The time step that contains <paramref name="time"/>.</summary>
    public static long StepAt(DateTimeOffset time) => time.ToUnixTimeSeconds() / StepSeconds;

    /// <summary>The 6-digit code for <paramref name="step"/> under <paramref name="key"/>.</summary>
    public static int Code(byte[] key, long step)
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
        Span<byte> hash = stackalloc byte[HMACSHA1.HashSizeInBytes];
        // RFC 6238 as authenticator apps implement it is HMAC-SHA1; HMAC does not rely on SHA-1's collision resistance.
#pragma warning disable CA5350
        HMACSHA1.HashData(key, counter, hash);
#pragma warning restore CA5350
        var offset = hash[^1] & 0x0F;
        var binary = BinaryPrimitives.ReadInt32BigEndian(hash[offset..]) & 0x7FFFFFFF;
        return binary % 1_000_000;
    }

    /// <summary>The key's bytes; null when it is not Base32 (letters A–Z, digits 2–7; spaces and padding ignored).</summary>
    public static byte[]? DecodeBase32(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var bytes = new List<byte>(key.Length * 5 / 8);
        int buffer = 0, bits = 0;
        foreach (var c in key)
        {
            if (c is ' ' or '=' or '-')
            {
                continue;
            }
            var value = Base32Alphabet.IndexOf(char.ToUpperInvariant(c), StringComparison.Ordinal);
            if (value < 0)
            {
                return null;
            }
            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes.Add((byte)(buffer >> bits));
                buffer &= (1 << bits) - 1;
            }
        }
        return bytes.Count > 0 ? [.. bytes] : null;
    }
}

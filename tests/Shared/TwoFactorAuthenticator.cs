using System.Buffers.Binary;
using System.Security.Cryptography;

namespace T2IStudio.Testing;

/// <summary>
/// An authenticator app, written from RFC 6238 for the tests (independent of the app's own code): HMAC-SHA1 over the
/// 30-second time step, dynamic truncation, six digits, from the Base32 key the enrolment page shows.
/// </summary>
/// <remarks>
/// The app accepts each code once (the last accepted step is remembered) and tolerates two steps either side of now.
/// So that tests never wait for the clock, <see cref="NextCode"/> gives the current step's code, or the next step's
/// when the current one was used already, as a phone would after waiting; each stays well inside the tolerance.
/// </remarks>
internal sealed class TwoFactorAuthenticator(string shownKey)
{
    private readonly byte[] _key = DecodeBase32(shownKey);
    private long _lastStep = long.MinValue;

    /// <summary>The time step that contains now.</summary>
    public static long CurrentStep => DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 30;

    /// <summary>A code the app has not accepted yet, computed right before it is sent.</summary>
    public string NextCode()
    {
        _lastStep = Math.Max(_lastStep + 1, CurrentStep);
        return CodeAt(_lastStep);
    }

    /// <summary>The code the last <see cref="NextCode"/> gave (to try it again).</summary>
    public string LastCode => CodeAt(_lastStep);

    /// <summary>A six-digit code that is not valid for any step near now.</summary>
    public string WrongCode()
    {
        var near = Enumerable.Range(-4, 9).Select(offset => CodeAt(CurrentStep + offset)).ToHashSet();
        return Enumerable.Range(0, 100).Select(i => ((123_456 + i * 7_919) % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture))
            .First(code => !near.Contains(code));
    }

    /// <summary>The code for <paramref name="step"/>.</summary>
    public string CodeAt(long step) => Code(_key, step, 6);

    /// <summary>RFC 6238's TOTP (RFC 4226's HOTP over the time step).</summary>
    public static string Code(byte[] key, long step, int digits)
    {
        var counter = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
#pragma warning disable CA5350 // RFC 6238 as authenticator apps implement it
        var hash = HMACSHA1.HashData(key, counter);
#pragma warning restore CA5350
        var offset = hash[^1] & 0x0F;
        var binary = ((hash[offset] & 0x7F) << 24) | (hash[offset + 1] << 16) | (hash[offset + 2] << 8) | hash[offset + 3];
        var modulo = (int)Math.Pow(10, digits);
        return (binary % modulo).ToString("D" + digits, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>RFC 4648 Base32 (spaces ignored, any case).</summary>
    public static byte[] DecodeBase32(string text)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var output = new List<byte>();
        var buffer = 0;
        var bits = 0;
        foreach (var c in text.ToUpperInvariant().Where(c => c is not (' ' or '=')))
        {
            var value = alphabet.IndexOf(c, StringComparison.Ordinal);
            Assert.True(value >= 0, $"'{c}' is not a Base32 character");
            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                output.Add((byte)((buffer >> bits) & 0xFF));
            }
        }
        return [.. output];
    }
}

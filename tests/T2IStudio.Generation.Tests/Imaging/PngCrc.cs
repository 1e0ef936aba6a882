namespace T2IStudio.Generation.Tests.Imaging;

/// <summary>
/// The CRC-32 of a PNG chunk (ISO 3309, as the PNG specification gives it), written out here rather than taken
/// from the intake under test, so tests that re-seal edited chunks do not lean on the code they check.
/// </summary>
internal static class PngCrc
{
    public static uint Of(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }
        return ~crc;
    }
}

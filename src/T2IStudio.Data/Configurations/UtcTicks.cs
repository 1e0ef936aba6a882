using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace T2IStudio.Data.Configurations;

/// <summary>
/// SQLite cannot compare or order DateTimeOffset values; UTC ticks are plain integers that index and sort.
/// </summary>
internal static class UtcTicks
{
    public static readonly ValueConverter<DateTimeOffset, long> Converter =
        new(v => v.UtcTicks, v => new DateTimeOffset(v, TimeSpan.Zero));

    public static readonly ValueConverter<DateTimeOffset?, long?> NullableConverter =
        new(v => v.HasValue ? v.Value.UtcTicks : null, v => v.HasValue ? new DateTimeOffset(v.Value, TimeSpan.Zero) : null);
}

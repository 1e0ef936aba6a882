using System.Text.Json;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace T2IStudio.Data.Configurations;

/// <summary>A list of model ids stored as one JSON array (a team's allowed models): both engines store it as text.</summary>
internal static class ModelIdList
{
    public static readonly ValueConverter<List<string>?, string?> Converter = new(
        v => v == null ? null : JsonSerializer.Serialize(v, (JsonSerializerOptions?)null),
        v => v == null ? null : JsonSerializer.Deserialize<List<string>>(v, (JsonSerializerOptions?)null));

    public static readonly ValueComparer<List<string>?> Comparer = new(
        (a, b) => a == null ? b == null : b != null && a.SequenceEqual(b),
        v => v == null ? 0 : v.Aggregate(17, (hash, id) => HashCode.Combine(hash, id)),
        v => v == null ? null : v.ToList());
}

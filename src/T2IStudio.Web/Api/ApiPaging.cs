using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using T2IStudio.Web.Images;

namespace T2IStudio.Web.Api;

/// <summary>A page the caller asked for: where to start and how many.</summary>
/// <param name="After">The position the previous page ended at, or null for the first page.</param>
/// <param name="Limit">How many items, 1 to <see cref="ApiPaging.MaxLimit"/>.</param>
public readonly record struct ApiPageRequest(KeysetPosition? After, int Limit);

/// <summary>
/// Cursor paging for <c>/api/v1</c> lists: <c>cursor</c> is opaque to callers (base64url of the last item's
/// ticks and id), <c>limit</c> is 1–100 (30 when absent). A list asks its service for one more than the limit, so
/// it knows whether a next page exists without counting.
/// </summary>
public static class ApiPaging
{
    /// <summary>Items per page when <c>limit</c> is absent.</summary>
    public const int DefaultLimit = 30;

    /// <summary>The most items one page holds.</summary>
    public const int MaxLimit = 100;

    private const int CursorBytes = sizeof(long) + 16;
    private const int MaxCursorChars = 64;

    /// <summary>The cursor that continues after an item at <paramref name="at"/> with id <paramref name="id"/>.</summary>
    public static string Encode(DateTimeOffset at, Guid id)
    {
        Span<byte> bytes = stackalloc byte[CursorBytes];
        BinaryPrimitives.WriteInt64BigEndian(bytes, at.UtcTicks);
        id.TryWriteBytes(bytes[sizeof(long)..]);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>Reads <c>cursor</c> and <c>limit</c>; otherwise a 400 naming the field that is wrong.</summary>
    public static bool TryRead(string? cursor, string? limit, out ApiPageRequest page, [NotNullWhen(false)] out ValidationProblem? problem)
    {
        page = default;
        problem = null;
        var take = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out take) || take is < 1 or > MaxLimit))
        {
            problem = ApiProblems.Invalid("limit", $"The limit must be a whole number between 1 and {MaxLimit}.");
            return false;
        }
        KeysetPosition? after = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            if (Decode(cursor) is not { } position)
            {
                problem = ApiProblems.Invalid("cursor", "The cursor is not one this API gave out; pass nextCursor from the previous page, or leave it out for the first page.");
                return false;
            }
            after = position;
        }
        page = new ApiPageRequest(after, take);
        return true;
    }

    /// <summary>
    /// The page of <paramref name="fetched"/> (asked for with <see cref="ApiPageRequest.Limit"/> + 1) and the cursor of
    /// its next page, or null when this is the last.
    /// </summary>
    public static (IReadOnlyList<T> Items, string? NextCursor) Page<T>(IReadOnlyList<T> fetched, int limit, Func<T, (DateTimeOffset At, Guid Id)> positionOf)
    {
        ArgumentNullException.ThrowIfNull(fetched);
        ArgumentNullException.ThrowIfNull(positionOf);
        if (fetched.Count <= limit)
        {
            return (fetched, null);
        }
        var items = fetched.Take(limit).ToList();
        var (at, id) = positionOf(items[^1]);
        return (items, Encode(at, id));
    }

    private static KeysetPosition? Decode(string cursor)
    {
        if (cursor.Length > MaxCursorChars)
        {
            return null;
        }
        Span<byte> bytes = stackalloc byte[Base64Url.GetMaxDecodedLength(MaxCursorChars)];
        if (Base64Url.DecodeFromChars(cursor, bytes, out _, out var written) != OperationStatus.Done || written != CursorBytes)
        {
            return null;
        }
        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return null;
        }
        return new KeysetPosition(new DateTimeOffset(ticks, TimeSpan.Zero), new Guid(bytes.Slice(sizeof(long), 16)));
    }
}

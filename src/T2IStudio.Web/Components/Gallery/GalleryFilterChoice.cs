using T2IStudio.Data.Entities;
using T2IStudio.Web.Images;

namespace T2IStudio.Web.Components.Gallery;

/// <summary>
/// What the gallery's filter bar shows: the words to search for, a model, how recent, favourites only. "Made" is
/// kept as a number of days, not a date, so "Today" still means today when the page stays open past midnight.
/// </summary>
/// <param name="Search">Words the prompt contains (trimmed); empty for any.</param>
/// <param name="Model">A model's name; empty for all models.</param>
/// <param name="Days">Made within this many days counting today (1 is today); 0 for any time.</param>
/// <param name="FavoritesOnly">Only images marked as favourites.</param>
/// <param name="Review">In a gallery with review on, only items in this review state; null for all.</param>
public sealed record GalleryFilterChoice(string Search = "", string Model = "", int Days = 0, bool FavoritesOnly = false, ReviewState? Review = null)
{
    /// <summary>True when any filter narrows the images (the page then says "match" and "Nothing matches").</summary>
    public bool IsFiltered => Search.Length > 0 || Model.Length > 0 || Days > 0 || FavoritesOnly || Review is not null;

    /// <summary>The query filter for this choice as of <paramref name="now"/> (its UTC date starts "today").</summary>
    public GalleryFilter ToFilter(DateTimeOffset now) => new(Search, Model.Length == 0 ? null : Model,
        Days == 0 ? null : now.Date.AddDays(1 - Days), FavoritesOnly, Review);
}

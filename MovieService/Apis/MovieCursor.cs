using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Linq.Expressions;
using System.Text.Encodings.Web;
using System.Text.Json;
using MovieService.Model;

namespace MovieService.Apis;

/// <summary>
/// A position in one sort order of the list: the sort keys of the last movie of a page and its id.
/// A page that starts <c>after</c> a cursor is found by a seek, and needs no count of all matches, the
/// largest cost of a deep page over a large collection (bench/RESULTS.md). Each sort order has an
/// index of the owner's movies in that order, so for one owner's list the seek reads only the page's
/// rows, at any depth (MovieQueryPlanTests checks the plans); filters read further, and an admin's
/// <c>owner=all</c> has no such index.
/// </summary>
public sealed record MovieCursor(MovieSort Sort, string Title, int ReleaseYear, DateTime CreatedAt, Guid Id)
{
    /// <summary>
    /// Longer than any cursor this service gives out: the longest, a title of 200 characters outside the
    /// Basic Multilingual Plane (each escaped in JSON as two <c>\uXXXX</c>), is about 3,300 characters.
    /// </summary>
    public const int MaxLength = 4096;

    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The cursor after <paramref name="movie"/> in <paramref name="sort"/>.</summary>
    public static string After(Movie movie, MovieSort sort)
    {
        string[] keys = sort.Field switch
        {
            MovieSorts.Year => [sort.ToString(), movie.ReleaseYear.ToString(CultureInfo.InvariantCulture), movie.Title, movie.Id.ToString()],
            MovieSorts.Created => [sort.ToString(), movie.CreatedAt.Ticks.ToString(CultureInfo.InvariantCulture), movie.Id.ToString()],
            _ => [sort.ToString(), movie.Title, movie.Id.ToString()],
        };
        return Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(keys, Json));
    }

    /// <summary>Reads a cursor given out for <paramref name="sort"/>; false for anything else.</summary>
    public static bool TryParse(string text, MovieSort sort, [NotNullWhen(true)] out MovieCursor? cursor)
    {
        cursor = null;
        string[]? keys;
        try
        {
            keys = text.Length <= MaxLength ? JsonSerializer.Deserialize<string[]>(Base64Url.DecodeFromChars(text), Json) : null;
        }
        catch (Exception exception) when (exception is FormatException or JsonException)
        {
            return false;
        }

        if (keys is null || keys.Length < 3 || keys[0] != sort.ToString() || !Guid.TryParse(keys[^1], out var id))
        {
            return false;
        }

        switch (sort.Field, keys.Length)
        {
            case (MovieSorts.Title, 3) when IsTitle(keys[1]):
                cursor = new MovieCursor(sort, keys[1], 0, default, id);
                return true;
            case (MovieSorts.Year, 4) when int.TryParse(keys[1], NumberStyles.None, CultureInfo.InvariantCulture, out var year) && IsTitle(keys[2]):
                cursor = new MovieCursor(sort, keys[2], year, default, id);
                return true;
            case (MovieSorts.Created, 3) when long.TryParse(keys[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) && ticks <= DateTime.MaxValue.Ticks:
                cursor = new MovieCursor(sort, string.Empty, 0, new DateTime(ticks, DateTimeKind.Utc), id);
                return true;
            default:
                return false;
        }

        // The title rules of MovieRules: a cursor of any title the service stored is accepted.
        static bool IsTitle(string? title) => title is not null && MovieRules.IsWellFormed(title) && MovieRules.Length(title) <= MovieLimits.TitleMaxLength;
    }

    /// <summary>
    /// The movies after this position, in the same order <see cref="MovieSort.Apply"/> sorts them: the
    /// comparisons run in the database, under the title column's collation, as the ORDER BY does.
    /// </summary>
    public IQueryable<Movie> Following(IQueryable<Movie> movies) => movies.Where(Predicate());

    private Expression<Func<Movie, bool>> Predicate()
    {
        // Locals: the expression captures the values, which EF Core sends as parameters (one cached query per sort).
        var title = Title;
        var year = ReleaseYear;
        var created = CreatedAt;
        var id = Id;
        return (Sort.Field, Sort.Descending) switch
        {
            (MovieSorts.Year, false) => m => m.ReleaseYear > year
                || (m.ReleaseYear == year && (m.Title.CompareTo(title) > 0 || (m.Title == title && m.Id.CompareTo(id) > 0))),
            (MovieSorts.Year, true) => m => m.ReleaseYear < year
                || (m.ReleaseYear == year && (m.Title.CompareTo(title) < 0 || (m.Title == title && m.Id.CompareTo(id) < 0))),
            (MovieSorts.Created, false) => m => m.CreatedAt > created || (m.CreatedAt == created && m.Id.CompareTo(id) > 0),
            (MovieSorts.Created, true) => m => m.CreatedAt < created || (m.CreatedAt == created && m.Id.CompareTo(id) < 0),
            (_, false) => m => m.Title.CompareTo(title) > 0 || (m.Title == title && m.Id.CompareTo(id) > 0),
            (_, true) => m => m.Title.CompareTo(title) < 0 || (m.Title == title && m.Id.CompareTo(id) < 0),
        };
    }
}

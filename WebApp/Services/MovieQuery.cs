using System.Globalization;
using System.Text;

namespace WebApp.Services;

/// <summary>
/// The movie list's state — search, genre, year, sort, page, and for admins whose movies — as it
/// lives in the page's URL (shareable, and Back works) and as the gateway's query string.
/// </summary>
public sealed record MovieQuery(string? Search, string? Genre, int? Year, string? Sort, int Page, bool AllOwners)
{
    public const int PageSize = 12;

    /// <summary>The sort orders the API knows, with what a person reads.</summary>
    public static readonly IReadOnlyList<(string Value, string Label)> SortOrders =
    [
        (MovieSorts.Title, "Title A–Z"),
        (MovieSorts.Descending(MovieSorts.Title), "Title Z–A"),
        (MovieSorts.Descending(MovieSorts.Year), "Newest release"),
        (MovieSorts.Year, "Oldest release"),
        (MovieSorts.Descending(MovieSorts.Created), "Recently added"),
        (MovieSorts.Created, "First added"),
    ];

    public string EffectiveSort => SortOrders.Any(s => s.Value == Sort) ? Sort! : MovieSorts.Title;

    public bool IsFiltered => !string.IsNullOrWhiteSpace(Search) || !string.IsNullOrWhiteSpace(Genre) || Year is not null;

    public string ToApiQueryString()
    {
        var query = new StringBuilder("?");
        Append(query, "search", Search?.Trim());
        Append(query, "genre", Genre?.Trim());
        Append(query, "year", Year?.ToString(CultureInfo.InvariantCulture));
        Append(query, "sort", EffectiveSort);
        Append(query, "page", Math.Max(1, Page).ToString(CultureInfo.InvariantCulture));
        Append(query, "pageSize", PageSize.ToString(CultureInfo.InvariantCulture));
        Append(query, "owner", AllOwners ? MovieOwners.All : null);
        return query.ToString().TrimEnd('&');
    }

    /// <summary>This page's own URL for another page number (null parameters are left out).</summary>
    public string ToPageUrl(int page)
    {
        var query = new StringBuilder("/movies?");
        Append(query, "search", Search);
        Append(query, "genre", Genre);
        Append(query, "year", Year?.ToString(CultureInfo.InvariantCulture));
        Append(query, "sort", Sort);
        Append(query, "owner", AllOwners ? MovieOwners.All : null);
        Append(query, "page", page > 1 ? page.ToString(CultureInfo.InvariantCulture) : null);
        return query.ToString().TrimEnd('&', '?');
    }

    private static void Append(StringBuilder query, string name, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            query.Append(name).Append('=').Append(Uri.EscapeDataString(value)).Append('&');
        }
    }
}

using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using MovieService.Model;

namespace MovieService.Apis;

/// <summary>The query string of the list endpoint.</summary>
public sealed record MovieListQuery(
    [property: Description("Part of the title, any case"), MaxLength(MovieListQuery.MaxSearchLength)] string? Search = null,
    [property: Description("One genre, any case"), MaxLength(MovieLimits.GenreMaxLength)] string? Genre = null,
    [property: Description("Release year")] int? Year = null,
    [property: Description("title, year or created; prefix '-' for descending. Default: title")] string? Sort = null,
    [property: Description("1-based page number. Default 1"), Range(1, PagingRules.MaxPage)] int Page = 1,
    [property: Description("Default 20"), Range(1, PagingRules.MaxPageSize)] int PageSize = 20,
    [property: Description("Admins: a user id, or 'all'"), MaxLength(MovieListQuery.MaxOwnerLength)] string? Owner = null,
    [property: Description("The 'next' of a page listed with the same sort and filters: the page after it, found by a seek, without counting all matches. Not with 'page'; such pages have no page number or total count. Empty: the first page"), MaxLength(MovieCursor.MaxLength)] string? After = null)
{
    public const int MaxSearchLength = MovieLimits.MaxSearchLength;
    public const int MaxOwnerLength = MovieLimits.MaxOwnerLength;

    public Dictionary<string, string[]> Validate(out MovieSort sort, out MovieCursor? after)
    {
        var errors = PagingRules.Check(Page, PageSize);
        after = null;
        if (!MovieSort.TryParse(Sort, out sort))
        {
            errors["sort"] = ["Sort by title, year or created, optionally prefixed with '-' for descending order."];
        }
        else if (!string.IsNullOrEmpty(After))
        {
            if (!MovieCursor.TryParse(After, sort, out var cursor))
            {
                errors["after"] = ["Not a cursor of this sort order: pass the 'next' of a page listed with the same sort, unchanged."];
            }
            else if (Page != 1)
            {
                errors["page"] = ["Give either a page number or a cursor ('after'), not both."];
            }

            after = cursor;
        }

        if (Search is { Length: > MaxSearchLength } || (Search is not null && MovieRules.HasControlCharacters(Search, allowLineBreaks: false)))
        {
            errors["search"] = [$"The search text must be at most {MaxSearchLength} characters of one line."];
        }

        if (Genre is { Length: > MovieLimits.GenreMaxLength } || (Genre is not null && MovieRules.HasControlCharacters(Genre, allowLineBreaks: false)))
        {
            errors["genre"] = [$"A genre is at most {MovieLimits.GenreMaxLength} characters of one line."];
        }

        if (Owner is { Length: > MaxOwnerLength } || (Owner is not null && MovieRules.HasControlCharacters(Owner, allowLineBreaks: false)))
        {
            errors["owner"] = ["The owner is a user id or 'all'."];
        }

        return errors;
    }
}

/// <summary>
/// A sort order of the list endpoint, with the id as tie-breaker so pages never overlap. A descending
/// order is the exact reverse of its ascending one (<c>-year</c>: newest year first, and within a year
/// titles Z to A), so one index serves both directions, read backwards for the descending one: every
/// MySQL and MariaDB reads a page from it in order, with no cost-based choice to go wrong
/// (MovieQueryPlanTests).
/// </summary>
public sealed record MovieSort(string Field, bool Descending)
{
    /// <summary>The sort as the query string spells it: <c>title</c>, <c>-year</c>, …</summary>
    public override string ToString() => Descending ? MovieSorts.Descending(Field) : Field;

    public static bool TryParse(string? value, out MovieSort sort)
    {
        sort = new MovieSort(MovieSorts.Title, false);
        if (string.IsNullOrEmpty(value))
        {
            return true;
        }

        var descending = value.StartsWith(MovieSorts.DescendingPrefix, StringComparison.Ordinal);
        var field = descending ? value[MovieSorts.DescendingPrefix.Length..] : value;
        if (!MovieSorts.Fields.Contains(field))
        {
            return false;
        }

        sort = new MovieSort(field, descending);
        return true;
    }

    public IQueryable<Movie> Apply(IQueryable<Movie> movies) => (Field, Descending) switch
    {
        (MovieSorts.Year, false) => movies.OrderBy(m => m.ReleaseYear).ThenBy(m => m.Title).ThenBy(m => m.Id),
        (MovieSorts.Year, true) => movies.OrderByDescending(m => m.ReleaseYear).ThenByDescending(m => m.Title).ThenByDescending(m => m.Id),
        (MovieSorts.Created, false) => movies.OrderBy(m => m.CreatedAt).ThenBy(m => m.Id),
        (MovieSorts.Created, true) => movies.OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id),
        (_, false) => movies.OrderBy(m => m.Title).ThenBy(m => m.Id),
        (_, true) => movies.OrderByDescending(m => m.Title).ThenByDescending(m => m.Id),
    };
}

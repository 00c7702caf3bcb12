namespace MovieService.Contracts;

/// <summary>
/// The limits of a movie's fields and of the list's query, as the movie service enforces them
/// (MovieRules, MovieListQuery) and its OpenAPI document states them; the web app's forms use the same.
/// </summary>
public static class MovieLimits
{
    /// <summary>The longest title, in characters as a person counts them.</summary>
    public const int TitleMaxLength = 200;
    /// <summary>The most genres of one movie (repeats count once).</summary>
    public const int MaxGenres = 10;
    /// <summary>The longest genre.</summary>
    public const int GenreMaxLength = 40;
    /// <summary>The longest synopsis.</summary>
    public const int SynopsisMaxLength = 4000;
    /// <summary>The shortest runtime, in minutes.</summary>
    public const int RuntimeMin = 1;
    /// <summary>The longest runtime, in minutes.</summary>
    public const int RuntimeMax = 1000;
    /// <summary>The earliest release year (the first films).</summary>
    public const int FirstReleaseYear = 1888;

    /// <summary>How many years after this one a release may be announced: next year plus five.</summary>
    public const int YearsAhead = 6;

    /// <summary>The largest body of a create or update, in bytes; the gateway's proxied route allows the same (GatewayConfigurationTests).</summary>
    public const long MaxBodyBytes = 64 * 1024;

    /// <summary>The longest search text of the list (<c>search</c>).</summary>
    public const int MaxSearchLength = 200;

    /// <summary>The longest <c>owner</c> of the list (a user id, or <c>all</c>).</summary>
    public const int MaxOwnerLength = 64;

    /// <summary>The latest acceptable release year: next year plus five (announced films).</summary>
    public static int LastReleaseYear(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return time.GetUtcNow().Year + YearsAhead;
    }
}

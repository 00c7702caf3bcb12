namespace MovieService.Contracts;

/// <summary>The sort orders of the movie list: a field, ascending, or descending with <see cref="DescendingPrefix"/> (<c>-year</c>).</summary>
public static class MovieSorts
{
    /// <summary>By title (the default).</summary>
    public const string Title = "title";
    /// <summary>By release year, then title.</summary>
    public const string Year = "year";
    /// <summary>By when the movie was added.</summary>
    public const string Created = "created";
    /// <summary>Put before a field for the descending order.</summary>
    public const string DescendingPrefix = "-";

    /// <summary>Every field the list sorts by.</summary>
    public static IReadOnlyList<string> Fields { get; } = [Title, Year, Created];

    /// <summary>The descending order of <paramref name="field"/>, as the query string spells it.</summary>
    public static string Descending(string field) => DescendingPrefix + field;
}

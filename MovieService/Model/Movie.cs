using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace MovieService.Model;

/// <summary>A movie in one user's collection.</summary>
public sealed class Movie
{
    public Guid Id { get; set; }

    /// <summary>The user whose collection holds the movie (the gateway's user id).</summary>
    public required string OwnerId { get; set; }

    public required string Title { get; set; }

    public int ReleaseYear { get; set; }

    public List<MovieGenre> Genres { get; set; } = [];

    public int? RuntimeMinutes { get; set; }

    public string? Synopsis { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>Optimistic concurrency token, incremented on every change; the strong ETag is derived from it.</summary>
    public int Version { get; set; }

    public string ETag => $"\"{Version}\"";

    public void Apply(MovieInput input, DateTime now)
    {
        Title = input.Title!;
        ReleaseYear = input.ReleaseYear!.Value;
        Genres = [.. MovieRules.DistinctGenres(input.Genres).Select(name => new MovieGenre { Name = name })];
        RuntimeMinutes = input.RuntimeMinutes;
        Synopsis = input.Synopsis;
        UpdatedAt = now;
    }

    public MovieDto ToDto() => new(
        Id.ToString(),
        Title,
        ReleaseYear,
        [.. Genres.Select(g => g.Name)],
        RuntimeMinutes,
        Synopsis,
        OwnerId,
        new DateTimeOffset(DateTime.SpecifyKind(CreatedAt, DateTimeKind.Utc)),
        new DateTimeOffset(DateTime.SpecifyKind(UpdatedAt, DateTimeKind.Utc)));

    /// <summary>The current time at the precision the database keeps (microseconds), so a response equals what a later read returns.</summary>
    public static DateTime Timestamp(TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return now.AddTicks(-(now.Ticks % 10));
    }
}

/// <summary>One genre of a movie (its own table: filtering by genre is an indexed join).</summary>
public sealed class MovieGenre
{
    public required string Name { get; set; }
}

/// <summary>A movie as the API returns it.</summary>
public sealed record MovieDto(
    string Id,
    string Title,
    int ReleaseYear,
    IReadOnlyList<string> Genres,
    int? RuntimeMinutes,
    string? Synopsis,
    string OwnerId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>
/// The body of create and update. Anything else a client sends (<c>id</c>, <c>ownerId</c>, …) is
/// ignored: the id is the route's, the owner is the caller.
/// </summary>
/// <remarks>
/// The attributes state <see cref="MovieRules"/>' limits in the OpenAPI document (the gateway publishes
/// it; <c>MoviesOpenApi</c> adds the two no attribute can say); <see cref="MovieRules.Validate"/> enforces them.
/// </remarks>
public sealed record MovieInput(
    [property: Required, StringLength(MovieRules.TitleMaxLength, MinimumLength = 1)] string? Title,
    [property: Required, Description("Up to next year + 5: announced films count")] int? ReleaseYear,
    [property: MaxLength(MovieRules.MaxGenres), Description("Repeated genres (any case) count once")] IReadOnlyList<string?>? Genres = null,
    [property: Range(MovieRules.RuntimeMin, MovieRules.RuntimeMax)] int? RuntimeMinutes = null,
    [property: MaxLength(MovieRules.SynopsisMaxLength)] string? Synopsis = null);

/// <summary>
/// A page of results. <see cref="Next"/> is the cursor of the following page (null on the last);
/// a page found by cursor has no <see cref="Page"/> number and no <see cref="TotalCount"/>.
/// </summary>
public sealed record PagedResult<T>(
    IReadOnlyList<T> Items,
    [property: Description("The page number; null on a page found by cursor")] int? Page,
    int PageSize,
    [property: Description("All matching movies; null on a page found by cursor (counting is what a cursor saves)")] long? TotalCount,
    [property: Description("Pass as 'after' (with the same sort and filters) for the next page; null on the last page")] string? Next);

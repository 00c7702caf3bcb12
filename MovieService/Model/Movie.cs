using System.ComponentModel.DataAnnotations;

namespace MovieService.Model;

/// <summary>
/// A movie in one user's collection. A column's type, length and nullability come from its property
/// (EF Core's conventions: the type, <c>[MaxLength]</c>, a nullable reference); keys, indexes and
/// precision are in MovieEntityTypeConfiguration.
/// </summary>
public sealed class Movie
{
    public Guid Id { get; set; }

    /// <summary>The user whose collection holds the movie (the gateway's user id).</summary>
    [MaxLength(MovieLimits.MaxOwnerLength)]
    public required string OwnerId { get; set; }

    [MaxLength(MovieLimits.TitleMaxLength)]
    public required string Title { get; set; }

    public int ReleaseYear { get; set; }

    public List<MovieGenre> Genres { get; set; } = [];

    public int? RuntimeMinutes { get; set; }

    [MaxLength(MovieLimits.SynopsisMaxLength)]
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
    [MaxLength(MovieLimits.GenreMaxLength)]
    public required string Name { get; set; }
}

using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace MovieService.Contracts;

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
/// The attributes state <see cref="MovieLimits"/> in the OpenAPI document (the gateway publishes
/// it; <c>MoviesOpenApi</c> adds the two no attribute can say); the movie service's MovieRules.Validate enforces them.
/// </remarks>
public sealed record MovieInput(
    [property: Required, StringLength(MovieLimits.TitleMaxLength, MinimumLength = 1)] string? Title,
    [property: Required, Description("Up to next year + 5: announced films count")] int? ReleaseYear,
    [property: MaxLength(MovieLimits.MaxGenres), Description("Repeated genres (any case) count once")] IReadOnlyList<string?>? Genres = null,
    [property: Range(MovieLimits.RuntimeMin, MovieLimits.RuntimeMax)] int? RuntimeMinutes = null,
    [property: MaxLength(MovieLimits.SynopsisMaxLength)] string? Synopsis = null);

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

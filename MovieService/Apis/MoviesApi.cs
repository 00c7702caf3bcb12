using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using MovieService.Identity;
using MovieService.Infrastructure;
using MovieService.Model;

namespace MovieService.Apis;

/// <summary>
/// The movie catalogue: each user's own collection. Internal only — reached through the gateway,
/// which proxies <c>/api/movies/**</c> here and sets the caller's identity headers.
/// </summary>
public static class MoviesApi
{
    /// <summary>Largest accepted request body: a movie is a few kilobytes at most.</summary>
    public const long MaxBodyBytes = MovieLimits.MaxBodyBytes;

    public static IEndpointRouteBuilder MapMoviesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/movies")
            .WithTags("Movies")
            .RequireAuthorization()
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes));

        api.MapGet("/", ListMovies)
            .WithName("ListMovies")
            .WithSummary("List the caller's movies")
            .WithDescription("Search (title contains, case-insensitive), filter by genre and year, sort by title, year or created (prefix '-' for descending), page by number or by cursor: each page's 'next', passed back as 'after', gives the following page without a total count. Admins may pass owner={userId} or owner=all.")
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapGet("/{id:guid}", GetMovie)
            .WithName("GetMovie")
            .WithSummary("Get one movie, with its ETag")
            .WithDescription("Another user's movie is 404 to anyone but an admin: its existence is not revealed.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithResponseHeader(StatusCodes.Status200OK, MoviesOpenApi.ETag);

        api.MapPost("/", CreateMovie)
            .WithName("CreateMovie")
            .WithSummary("Add a movie to the caller's collection")
            .WithDescription("The caller becomes its owner; id, ownerId and other fields in the body are ignored.")
            .WithResponseHeader(StatusCodes.Status201Created, MoviesOpenApi.ETag, MoviesOpenApi.Location);

        api.MapPut("/{id:guid}", UpdateMovie)
            .WithName("UpdateMovie")
            .WithSummary("Replace a movie; requires If-Match with its ETag")
            .WithIfMatchHeader(required: true, "The movie's ETag from GET, or * to replace whatever version is current")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .ProducesProblem(StatusCodes.Status428PreconditionRequired)
            .WithResponseHeader(StatusCodes.Status200OK, MoviesOpenApi.ETag);

        api.MapDelete("/{id:guid}", DeleteMovie)
            .WithName("DeleteMovie")
            .WithSummary("Delete a movie; If-Match is optional")
            .WithIfMatchHeader(required: false, "The movie's ETag from GET: deletes only that version")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        return app;
    }

    public static async Task<Results<Ok<PagedResult<MovieDto>>, ValidationProblem, ForbidHttpResult>> ListMovies(
        [AsParameters] MovieServices services,
        [AsParameters] MovieListQuery query,
        CancellationToken cancellationToken)
    {
        var errors = query.Validate(out var sort, out var after);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid query");
        }

        var caller = services.HttpContext.User;
        string? owner = caller.UserId();
        if (query.Owner is { } requested && requested != owner)
        {
            if (!caller.IsAdmin())
            {
                return TypedResults.Forbid();
            }

            owner = requested == MovieOwners.All ? null : requested;
        }

        var movies = services.Context.Movies.AsNoTracking();
        if (owner is not null)
        {
            movies = movies.Where(m => m.OwnerId == owner);
        }

        if (!string.IsNullOrEmpty(query.Search))
        {
            // The column's collation (utf8mb4_unicode_ci) makes this case- and accent-insensitive.
            movies = movies.Where(m => m.Title.Contains(query.Search));
        }

        if (!string.IsNullOrEmpty(query.Genre))
        {
            var genre = query.Genre.Trim();
            movies = movies.Where(m => m.Genres.Any(g => g.Name == genre));
        }

        if (query.Year is { } year)
        {
            movies = movies.Where(m => m.ReleaseYear == year);
        }

        if (after is not null)
        {
            var (items, more) = await services.ReadAsync(ct => PageAfterAsync(movies, after, query.PageSize, ct), cancellationToken);
            return TypedResults.Ok(new PagedResult<MovieDto>(
                [.. items.Select(m => m.ToDto())], null, query.PageSize, null, more ? MovieCursor.After(items[^1], sort) : null));
        }

        var table = services.Context.Movies.AsNoTracking().WithOrderedGenres();
        var (page, total) = await services.ReadAsync(ct => PageAndCountAsync(table, movies, sort, query.Page, query.PageSize, ct), cancellationToken);
        var next = page.Count > 0 && PagingRules.Offset(query.Page, query.PageSize) + page.Count < total ? MovieCursor.After(page[^1], sort) : null;
        return TypedResults.Ok(new PagedResult<MovieDto>([.. page.Select(m => m.ToDto())], query.Page, query.PageSize, total, next));
    }

    /// <summary>
    /// The page after a cursor: a seek in the sort order's index, one row more than the page to learn
    /// whether another page follows, and no count (that is what keeps a deep page cheap).
    /// </summary>
    private static async Task<(List<Movie> Page, bool More)> PageAfterAsync(
        IQueryable<Movie> movies, MovieCursor after, int pageSize, CancellationToken cancellationToken)
    {
        var rows = await after.Sort.Apply(after.Following(movies.WithOrderedGenres()))
            .Take(pageSize + 1)
            .ToListAsync(cancellationToken);
        var more = rows.Count > pageSize;
        if (more)
        {
            rows.RemoveAt(pageSize);
        }

        return (rows, more);
    }

    /// <summary>
    /// One page and the number of all matching movies in one statement, one round trip: the count is an
    /// uncorrelated subquery of the page query, which MariaDB evaluates once. The page's ids are found
    /// first, from the sort order's index alone, and only the page's own rows are read in full (a deep
    /// page no longer reads every row it skips: bench/RESULTS.md). Only a page past the end (no rows,
    /// so no count either) asks for the count on its own.
    /// </summary>
    private static async Task<(List<Movie> Page, long Total)> PageAndCountAsync(
        IQueryable<Movie> table, IQueryable<Movie> movies, MovieSort sort, int page, int pageSize, CancellationToken cancellationToken)
    {
        var pageIds = sort.Apply(movies)
            .Skip(PagingRules.Offset(page, pageSize))
            .Take(pageSize)
            .Select(m => m.Id);
        var rows = await sort.Apply(pageIds.Join(table, id => id, m => m.Id, (_, m) => m))
            .Select(m => new { Movie = m, Total = movies.LongCount() })
            .ToListAsync(cancellationToken);

        return rows.Count > 0
            ? ([.. rows.Select(r => r.Movie)], rows[0].Total)
            : ([], page == 1 ? 0 : await movies.LongCountAsync(cancellationToken));
    }

    public static async Task<Results<Ok<MovieDto>, ProblemHttpResult>> GetMovie(
        [AsParameters] MovieServices services,
        Guid id,
        CancellationToken cancellationToken)
    {
        var movie = await services.FindVisibleAsync(id, tracking: false, cancellationToken);
        if (movie is null)
        {
            return NotFound();
        }

        services.HttpContext.Response.Headers.ETag = movie.ETag;
        return TypedResults.Ok(movie.ToDto());
    }

    public static async Task<Results<Created<MovieDto>, ValidationProblem>> CreateMovie(
        [AsParameters] MovieServices services,
        MovieInput input,
        CancellationToken cancellationToken)
    {
        var errors = MovieRules.Validate(input, services.Time);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid movie");
        }

        var now = Movie.Timestamp(services.Time);
        var movie = new Movie
        {
            Id = Guid.CreateVersion7(),
            OwnerId = services.HttpContext.User.UserId(),
            Title = string.Empty,
            CreatedAt = now,
            Version = 1,
        };
        movie.Apply(input, now);

        services.Context.Movies.Add(movie);
        await services.Context.SaveChangesAsync(cancellationToken);

        services.HttpContext.Response.Headers.ETag = movie.ETag;
        return TypedResults.Created($"/movies/{movie.Id}", movie.ToDto());
    }

    public static async Task<Results<Ok<MovieDto>, ValidationProblem, ProblemHttpResult>> UpdateMovie(
        [AsParameters] MovieServices services,
        Guid id,
        MovieInput input,
        CancellationToken cancellationToken)
    {
        // Updates must say which version they replace, so that no change is silently overwritten.
        var preconditions = services.HttpContext.Request.GetTypedHeaders().IfMatch;
        if (preconditions.Count == 0)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status428PreconditionRequired,
                title: "If-Match required",
                detail: "Send If-Match with the movie's ETag (from GET), or If-Match: * to replace whatever version is current.");
        }

        var errors = MovieRules.Validate(input, services.Time);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid movie");
        }

        var movie = await services.FindVisibleAsync(id, tracking: true, cancellationToken);
        if (movie is null)
        {
            return NotFound();
        }

        if (!Matches(preconditions, movie))
        {
            return Stale(movie);
        }

        // The version the client saw is the one the UPDATE must find, or nothing is written.
        services.Context.Entry(movie).Property(m => m.Version).OriginalValue = movie.Version;
        movie.Version++;
        movie.Apply(input, Movie.Timestamp(services.Time));
        try
        {
            await services.Context.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return Stale(null);
        }

        services.HttpContext.Response.Headers.ETag = movie.ETag;
        return TypedResults.Ok(movie.ToDto());
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteMovie(
        [AsParameters] MovieServices services,
        Guid id,
        CancellationToken cancellationToken)
    {
        var movie = await services.FindVisibleAsync(id, tracking: true, cancellationToken);
        if (movie is null)
        {
            return NotFound();
        }

        var preconditions = services.HttpContext.Request.GetTypedHeaders().IfMatch;
        if (preconditions.Count > 0 && !Matches(preconditions, movie))
        {
            return Stale(movie);
        }

        services.Context.Movies.Remove(movie);
        try
        {
            await services.Context.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return Stale(null);
        }

        return TypedResults.NoContent();
    }

    private static bool Matches(IList<EntityTagHeaderValue> preconditions, Movie movie) =>
        preconditions.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || (!tag.IsWeak && tag.Tag == movie.ETag));

    private static ProblemHttpResult NotFound() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Movie not found");

    private static ProblemHttpResult Stale(Movie? current) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status412PreconditionFailed,
            title: "The movie has changed",
            detail: current is null
                ? "Someone changed the movie at the same time. GET it again and reapply your change."
                : $"The current version is {current.ETag}. GET it again and reapply your change.");
}

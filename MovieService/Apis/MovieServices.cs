using Microsoft.EntityFrameworkCore;
using MovieService.Identity;
using MovieService.Infrastructure;
using MovieService.Model;

namespace MovieService.Apis;

/// <summary>What every movie handler needs.</summary>
public sealed class MovieServices(MovieDbContext context, TimeProvider time, HttpContext httpContext)
{
    public MovieDbContext Context { get; } = context;

    public TimeProvider Time { get; } = time;

    public HttpContext HttpContext { get; } = httpContext;

    /// <summary>The movie if the caller may see it: their own, or anyone's for an admin. Others' movies are "not found".</summary>
    public Task<Movie?> FindVisibleAsync(Guid id, bool tracking, CancellationToken cancellationToken)
    {
        var movies = (tracking ? Context.Movies : Context.Movies.AsNoTracking()).WithOrderedGenres();
        var user = HttpContext.User;
        if (!user.IsAdmin())
        {
            var owner = user.UserId();
            movies = movies.Where(m => m.OwnerId == owner);
        }

        return ReadAsync(ct => movies.FirstOrDefaultAsync(m => m.Id == id, ct), cancellationToken);
    }

    /// <summary>
    /// Runs a read as one operation of the context's retrying execution strategy: after a transient
    /// failure the whole read runs again. Inside such an operation EF Core streams the rows into the
    /// result; a query run outside one is first copied into a buffer of boxed values (so that it could
    /// be retried alone), which was a quarter of the memory a list request allocated (bench/RESULTS.md).
    /// </summary>
    public Task<TResult> ReadAsync<TResult>(Func<CancellationToken, Task<TResult>> read, CancellationToken cancellationToken) =>
        Context.Database.CreateExecutionStrategy().ExecuteAsync(read, cancellationToken);
}

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
        var movies = tracking ? Context.Movies : Context.Movies.AsNoTracking();
        var user = HttpContext.User;
        if (!user.IsAdmin())
        {
            var owner = user.UserId();
            movies = movies.Where(m => m.OwnerId == owner);
        }

        return movies.FirstOrDefaultAsync(m => m.Id == id, cancellationToken);
    }
}

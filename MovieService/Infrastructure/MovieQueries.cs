using Microsoft.EntityFrameworkCore;
using MovieService.Model;

namespace MovieService.Infrastructure;

internal static class MovieQueries
{
    /// <summary>
    /// Movies with their genres in the order they were given. EF Core orders an owned collection's
    /// rows only by the owner's key, so without this the genres come in whatever order the query
    /// plan reads them.
    /// </summary>
    public static IQueryable<Movie> WithOrderedGenres(this IQueryable<Movie> movies) =>
        movies.Include(m => m.Genres.OrderBy(g => EF.Property<long>(g, "Id")));
}

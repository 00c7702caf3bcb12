using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace MovieService.Infrastructure;

/// <summary>
/// Lets <c>dotnet ef</c> build the model without a database or the app's start-up (STYLE.md rule 5:
/// <c>ServerVersion.AutoDetect</c> would need a live server at design time).
/// </summary>
internal sealed class DesignTimeMovieDbContextFactory : IDesignTimeDbContextFactory<MovieDbContext>
{
    public MovieDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<MovieDbContext>()
            .UseMySql("Server=localhost;Database=moviedb", ServerVersion.Parse("8.0.36-mysql"))
            .Options;
        return new MovieDbContext(options);
    }
}

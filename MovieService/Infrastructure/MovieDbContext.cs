using Microsoft.EntityFrameworkCore;
using MovieService.Infrastructure.EntityConfigurations;
using MovieService.Model;

namespace MovieService.Infrastructure;

/// <summary>
/// The movie service's database: one table of movies, one of their genres.
/// </summary>
/// <remarks>
/// Add a migration with the repository's local tool (from the repository root):
/// <code>dotnet tool restore
/// dotnet ef migrations add &lt;Name&gt; --project MovieService --output-dir Infrastructure/Migrations</code>
/// Migrations are applied at start-up by <see cref="DatabaseMigrator"/>; <c>dotnet ef</c> needs no
/// database (<see cref="DesignTimeMovieDbContextFactory"/>).
/// </remarks>
public sealed class MovieDbContext(DbContextOptions<MovieDbContext> options) : DbContext(options)
{
    public DbSet<Movie> Movies => Set<Movie>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        // Full Unicode (emoji included) and the same case-insensitive comparison on MySQL 8 and MariaDB.
        modelBuilder.HasCharSet("utf8mb4").UseCollation("utf8mb4_unicode_ci");
        modelBuilder.ApplyConfiguration(new MovieEntityTypeConfiguration());
    }
}

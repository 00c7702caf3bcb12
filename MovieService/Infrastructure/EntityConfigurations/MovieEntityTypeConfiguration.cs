using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using MovieService.Model;

namespace MovieService.Infrastructure.EntityConfigurations;

internal sealed class MovieEntityTypeConfiguration : IEntityTypeConfiguration<Movie>
{
    public void Configure(EntityTypeBuilder<Movie> builder)
    {
        builder.ToTable("movies");
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Id).ValueGeneratedNever();
        builder.Property(m => m.CreatedAt).HasPrecision(6);
        builder.Property(m => m.UpdatedAt).HasPrecision(6);
        builder.Property(m => m.Version).IsConcurrencyToken();
        builder.Ignore(m => m.ETag);

        // The list queries: a user's movies by title (search and sort), by year, by creation time. Each
        // index holds its sort order whole (InnoDB appends the id), so a page is read from it in order,
        // never sorted; a descending sort is the exact reverse and reads the same index backwards
        // (MovieSort, bench/RESULTS.md).
        builder.HasIndex(m => new { m.OwnerId, m.Title });
        builder.HasIndex(m => new { m.OwnerId, m.ReleaseYear, m.Title }, "IX_movies_OwnerId_ReleaseYear_Title");
        builder.HasIndex(m => new { m.OwnerId, m.CreatedAt });

        builder.OwnsMany(m => m.Genres, genre =>
        {
            genre.ToTable("movie_genres");
            genre.WithOwner().HasForeignKey("MovieId");
            genre.Property<long>("Id");
            genre.HasKey("Id");
            genre.HasIndex("Name", "MovieId");
        });
        builder.Navigation(m => m.Genres).AutoInclude();
    }
}

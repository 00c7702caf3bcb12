using Microsoft.EntityFrameworkCore;
using MovieService.Contracts;
using MovieService.Infrastructure;
using MovieService.Model;

namespace MovieDb.Tests.Unit;

/// <summary>
/// The movie tables as EF Core models them (no server: the design-time context). A column's length
/// comes from its entity property's [MaxLength], so these tests see it if an attribute goes missing.
/// </summary>
public sealed class MovieModelTests
{
    [Fact]
    public void Text_columns_are_as_long_as_the_contract_allows_and_only_the_optional_ones_are_nullable()
    {
        using var context = new DesignTimeMovieDbContextFactory().CreateDbContext([]);
        var movie = context.Model.FindEntityType(typeof(Movie))!;
        var genre = context.Model.FindEntityType(typeof(MovieGenre))!;

        Assert.Equal(MovieLimits.TitleMaxLength, movie.FindProperty(nameof(Movie.Title))!.GetMaxLength());
        Assert.Equal(MovieLimits.SynopsisMaxLength, movie.FindProperty(nameof(Movie.Synopsis))!.GetMaxLength());
        Assert.Equal(MovieLimits.MaxOwnerLength, movie.FindProperty(nameof(Movie.OwnerId))!.GetMaxLength());
        Assert.Equal(MovieLimits.GenreMaxLength, genre.FindProperty(nameof(MovieGenre.Name))!.GetMaxLength());

        Assert.False(movie.FindProperty(nameof(Movie.Title))!.IsNullable);
        Assert.False(movie.FindProperty(nameof(Movie.OwnerId))!.IsNullable);
        Assert.False(genre.FindProperty(nameof(MovieGenre.Name))!.IsNullable);
        Assert.True(movie.FindProperty(nameof(Movie.Synopsis))!.IsNullable);
    }

    [Fact]
    public void The_model_is_what_the_migrations_build()
    {
        using var context = new DesignTimeMovieDbContextFactory().CreateDbContext([]);

        // A change of the model without its migration ('dotnet ef migrations add …' in docs/changes.md).
        Assert.False(context.Database.HasPendingModelChanges(), "the movie model changed without a migration");
    }
}

using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using MovieService.Apis;
using MovieService.Contracts;
using MovieService.Infrastructure;
using MovieService.Model;

namespace MovieDb.Tests.Unit;

public sealed class MovieRulesTests
{
    [Fact]
    public void The_release_year_window_ends_five_years_after_next_year_by_the_clock()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 12, 31, 23, 0, 0, TimeSpan.Zero));

        Assert.Empty(MovieRules.Validate(new MovieInput("Future", 2036, null, null, null), clock));
        Assert.Contains("releaseYear", MovieRules.Validate(new MovieInput("Future", 2037, null, null, null), clock).Keys);
    }

    [Theory]
    [InlineData(null, "title", false)]
    [InlineData("title", "title", false)]
    [InlineData("-title", "title", true)]
    [InlineData("year", "year", false)]
    [InlineData("-created", "created", true)]
    public void Sort_keys_parse_with_an_optional_descending_prefix(string? value, string field, bool descending)
    {
        Assert.True(MovieSort.TryParse(value, out var sort));
        Assert.Equal(new MovieSort(field, descending), sort);
    }

    [Theory]
    [InlineData("rating")]
    [InlineData("--title")]
    [InlineData("Title")]
    [InlineData("-")]
    public void Unknown_sort_keys_do_not_parse(string value) => Assert.False(MovieSort.TryParse(value, out _));

    [Fact]
    public async Task Update_without_if_match_is_428_before_any_database_work()
    {
        // The context is never opened: no server is needed to prove the handler answers first.
        await using var context = new MovieDbContext(new DbContextOptionsBuilder<MovieDbContext>()
            .UseMySql("Server=127.0.0.1;Port=1;Database=none", Microsoft.EntityFrameworkCore.ServerVersion.Parse("10.11.0-mariadb")).Options);
        var services = new MovieServices(context, TimeProvider.System, new DefaultHttpContext());

        var result = await MoviesApi.UpdateMovie(services, Guid.NewGuid(), new MovieInput("x", 2000, null, null, null), CancellationToken.None);

        var problem = Assert.IsType<ProblemHttpResult>(result.Result);
        Assert.Equal(StatusCodes.Status428PreconditionRequired, problem.StatusCode);
    }

    [Fact]
    public async Task An_invalid_list_query_is_a_validation_problem_naming_the_fields()
    {
        await using var context = new MovieDbContext(new DbContextOptionsBuilder<MovieDbContext>()
            .UseMySql("Server=127.0.0.1;Port=1;Database=none", Microsoft.EntityFrameworkCore.ServerVersion.Parse("10.11.0-mariadb")).Options);
        var services = new MovieServices(context, TimeProvider.System, new DefaultHttpContext());

        var result = await MoviesApi.ListMovies(services, new MovieListQuery(Sort: "stars", Page: 0, PageSize: 500), CancellationToken.None);

        var problem = Assert.IsType<ValidationProblem>(result.Result);
        Assert.Equal(["page", "pageSize", "sort"], problem.ProblemDetails.Errors.Keys.Order(StringComparer.Ordinal));
    }
}

using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MovieService.Apis;
using MovieService.Infrastructure;
using MySqlConnector;

namespace MovieDb.Tests.Integration.Movies;

/// <summary>
/// A page of a user's list, in every sort order, by number and by cursor, is read from an index in
/// order and the owner's movies are never sorted whole: MariaDB's plans for the queries the list
/// handler sends, as EF Core prints them (a year-sorted page over 10,000 movies cost 30 ms with a
/// filesort, 0.2 ms from the index: bench/RESULTS.md).
/// </summary>
public sealed class MovieQueryPlanTests(MovieServiceFixture service) : IClassFixture<MovieServiceFixture>
{
    private const int Count = 2000;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Sorts() => ["title", "-title", "year", "-year", "created", "-created"];

    [Theory]
    [MemberData(nameof(Sorts))]
    public async Task A_page_in_any_sort_order_is_read_from_an_index_by_number_and_by_cursor_without_sorting_the_owners_movies(string sortText)
    {
        var owner = await SeedAsync();
        Assert.True(MovieSort.TryParse(sortText, out var sort));

        using var scope = service.Factory.Services.CreateScope();
        var movies = scope.ServiceProvider.GetRequiredService<MovieDbContext>().Movies.AsNoTracking().Where(m => m.OwnerId == owner);
        var middle = await sort.Apply(movies).Skip(Count / 2).FirstAsync(Ct);
        var cursor = new MovieCursor(sort, middle.Title, middle.ReleaseYear, middle.CreatedAt, middle.Id);

        // As the handler asks (MoviesApi): by number, the page's ids (the deferred join then reads 20 rows
        // by primary key); by cursor, the page after it with its genres. In both, the scan of the owner's
        // movies (alias m) must come from an index in order; only the ≤ 21 rows of a page may be sorted.
        var byNumber = await ExplainAsync(sort.Apply(movies).Skip(Count / 4).Take(20).Select(m => m.Id).ToQueryString());
        var byCursor = await ExplainAsync(sort.Apply(cursor.Following(movies.WithOrderedGenres())).Take(21).ToQueryString());

        var server = await service.Database.ScalarAsync<string>("SELECT VERSION()");
        foreach (var plan in new[] { byNumber, byCursor })
        {
            var scan = plan.Single(row => row["table"] == "m");
            Assert.True(scan["key"].StartsWith("IX_movies_OwnerId_", StringComparison.Ordinal), Describe(server, plan));
            Assert.False(scan["Extra"].Contains("filesort", StringComparison.OrdinalIgnoreCase), Describe(server, plan));
        }
    }

    private static string Describe(string? server, List<Dictionary<string, string>> plan) =>
        $"on {server}:{Environment.NewLine}" + string.Join(Environment.NewLine, plan.Select(row => string.Join(' ', row.Select(column => $"{column.Key}={column.Value}"))));

    /// <summary>
    /// Enough movies of one owner (one statement) that the optimizer weighs an index against a sort as it
    /// would for a large collection: several titles and creation times per year.
    /// </summary>
    private async Task<string> SeedAsync()
    {
        var owner = $"plan-{Guid.NewGuid():N}";
        var rows = new StringBuilder();
        for (var i = 0; i < Count; i++)
        {
            var created = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(i * 7 % Count);
            rows.Append(CultureInfo.InvariantCulture, $"{(i == 0 ? "" : ",")}('{Guid.CreateVersion7()}', '{owner}', 'Movie {i % 500:D3}', {1950 + (i % 30)}, '{created:yyyy-MM-dd HH:mm:ss}', '{created:yyyy-MM-dd HH:mm:ss}', 1)");
        }

        await service.Database.ExecuteAsync($"INSERT INTO movies (Id, OwnerId, Title, ReleaseYear, CreatedAt, UpdatedAt, Version) VALUES {rows}; ANALYZE TABLE movies;");
        return owner;
    }

    /// <summary>
    /// EXPLAIN of a query as EF Core prints it (<c>ToQueryString</c>: the parameters it does not inline
    /// as <c>SET</c> statements, then the query), on one connection: the plan's rows, column by column.
    /// </summary>
    private async Task<List<Dictionary<string, string>>> ExplainAsync(string sql)
    {
        await using var connection = new MySqlConnection(service.Database.ConnectionString + ";Allow User Variables=true");
        await connection.OpenAsync(Ct);
        var select = sql.IndexOf("SELECT", StringComparison.Ordinal);
        if (!string.IsNullOrWhiteSpace(sql[..select]))
        {
            await using var parameters = new MySqlCommand(sql[..select], connection);
            await parameters.ExecuteNonQueryAsync(Ct);
        }

        await using var explain = new MySqlCommand("EXPLAIN " + sql[select..], connection);
        await using var reader = await explain.ExecuteReaderAsync(Ct);
        var plan = new List<Dictionary<string, string>>();
        while (await reader.ReadAsync(Ct))
        {
            plan.Add(Enumerable.Range(0, reader.FieldCount).ToDictionary(
                reader.GetName,
                i => reader.IsDBNull(i) ? string.Empty : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)!,
                StringComparer.Ordinal));
        }

        return plan;
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace MovieDb.Tests.Integration.Movies;

/// <summary>Every validation rule at its boundary: just inside passes, just outside fails with that field named.</summary>
public sealed class MovieValidationTests(MovieServiceFixture service) : IClassFixture<MovieServiceFixture>
{
    private static readonly int LastYear = DateTime.UtcNow.Year + 6;

    private static Dictionary<string, object?> Body(Action<Dictionary<string, object?>> change)
    {
        var body = new Dictionary<string, object?>
        {
            ["title"] = "Boundary",
            ["releaseYear"] = 2000,
            ["genres"] = new[] { "Drama" },
            ["runtimeMinutes"] = 100,
            ["synopsis"] = "ok",
        };
        change(body);
        return body;
    }

    public static TheoryData<string, Dictionary<string, object?>, string?> Cases => new()
    {
        { "title of 200 characters", Body(b => b["title"] = new string('x', 200)), null },
        { "title of 200 emoji (400 UTF-16 units)", Body(b => b["title"] = string.Concat(Enumerable.Repeat("🎬", 200))), null },
        { "title of 201 characters", Body(b => b["title"] = new string('x', 201)), "title" },
        { "title missing", Body(b => b.Remove("title")), "title" },
        { "title blank", Body(b => b["title"] = "   "), "title" },
        { "year 1888", Body(b => b["releaseYear"] = 1888), null },
        { "year 1887", Body(b => b["releaseYear"] = 1887), "releaseYear" },
        { "year next + 5", Body(b => b["releaseYear"] = LastYear), null },
        { "year next + 6", Body(b => b["releaseYear"] = LastYear + 1), "releaseYear" },
        { "year missing", Body(b => b.Remove("releaseYear")), "releaseYear" },
        { "10 genres", Body(b => b["genres"] = Enumerable.Range(1, 10).Select(i => $"g{i}").ToArray()), null },
        { "11 genres", Body(b => b["genres"] = Enumerable.Range(1, 11).Select(i => $"g{i}").ToArray()), "genres" },
        { "genre of 40 characters", Body(b => b["genres"] = new[] { new string('g', 40) }), null },
        { "genre of 41 characters", Body(b => b["genres"] = new[] { new string('g', 41) }), "genres" },
        { "empty genre", Body(b => b["genres"] = new[] { "Drama", "" }), "genres" },
        { "no genres", Body(b => b["genres"] = Array.Empty<string>()), null },
        { "runtime 1", Body(b => b["runtimeMinutes"] = 1), null },
        { "runtime 0", Body(b => b["runtimeMinutes"] = 0), "runtimeMinutes" },
        { "runtime 1000", Body(b => b["runtimeMinutes"] = 1000), null },
        { "runtime 1001", Body(b => b["runtimeMinutes"] = 1001), "runtimeMinutes" },
        { "runtime absent", Body(b => b.Remove("runtimeMinutes")), null },
        { "synopsis of 4000 characters", Body(b => b["synopsis"] = new string('s', 4000)), null },
        { "synopsis of 4001 characters", Body(b => b["synopsis"] = new string('s', 4001)), "synopsis" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Create_validates_each_field_at_its_boundary(string description, Dictionary<string, object?> body, string? badField)
    {
        using var client = service.ClientFor($"user-{Guid.NewGuid():N}");

        using var response = await client.PostAsJsonAsync("/movies", body, TestContext.Current.CancellationToken);

        if (badField is null)
        {
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"{description}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
            var created = await response.Content.ReadFromJsonAsync<MovieJson>(TestContext.Current.CancellationToken);
            Assert.Equal(body["title"], created!.Title);
        }
        else
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
            Assert.True(problem.GetProperty("errors").TryGetProperty(badField, out _), $"{description}: {problem}");
            Assert.Single(problem.GetProperty("errors").EnumerateObject());
        }
    }

    [Fact]
    public async Task Every_bad_field_is_named_at_once_and_nothing_is_stored()
    {
        using var client = service.ClientFor($"user-{Guid.NewGuid():N}");

        using var response = await client.PostAsJsonAsync("/movies", new { title = "", releaseYear = 1500, genres = Enumerable.Repeat("x", 11), runtimeMinutes = -1, synopsis = new string('s', 5000) }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal(["genres", "releaseYear", "runtimeMinutes", "synopsis", "title"], problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var list = await client.GetFromJsonAsync<MoviePageJson>("/movies", TestContext.Current.CancellationToken);
        Assert.Equal(0, list!.TotalCount);
    }

    [Fact]
    public async Task Update_applies_the_same_rules()
    {
        using var client = service.ClientFor($"user-{Guid.NewGuid():N}");
        var (movie, _) = await MovieHttp.CreateAsync(client);

        using var response = await client.SendAsync(MoviesApiTests.Put(movie.Id, "\"1\"", new { title = new string('x', 201), releaseYear = 2000 }), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(movie.Title, (await client.GetFromJsonAsync<MovieJson>($"/movies/{movie.Id}", TestContext.Current.CancellationToken))!.Title);
    }

    [Fact]
    public async Task Duplicate_genres_are_kept_once_in_the_order_given()
    {
        using var client = service.ClientFor($"user-{Guid.NewGuid():N}");

        var (movie, _) = await MovieHttp.CreateAsync(client, MovieHttp.NewMovie(genres: ["Drama", " drama ", "Noir", "DRAMA"]));

        Assert.Equal(["Drama", "Noir"], movie.Genres);
    }

    [Fact]
    public async Task A_title_with_an_unpaired_surrogate_escape_is_rejected()
    {
        using var client = service.ClientFor($"user-{Guid.NewGuid():N}");
        using var content = new StringContent("""{"title":"bad \ud800 text","releaseYear":2000}""", Encoding.UTF8, "application/json");

        using var response = await client.PostAsync("/movies", content, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, (await client.GetFromJsonAsync<MoviePageJson>("/movies", TestContext.Current.CancellationToken))!.TotalCount);
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace MovieDb.Tests.Integration.Movies;

/// <summary>Every route of the movie service against MariaDB, as the gateway calls it.</summary>
public sealed class MoviesApiTests(MovieServiceFixture service) : IClassFixture<MovieServiceFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NewUser() => $"user-{Guid.NewGuid():N}";

    [Fact]
    public async Task Without_identity_headers_every_route_is_401_problem_details()
    {
        using var client = service.AnonymousClient();
        var id = Guid.NewGuid();

        HttpResponseMessage[] responses =
        [
            await client.GetAsync("/movies", Ct),
            await client.GetAsync($"/movies/{id}", Ct),
            await client.PostAsJsonAsync("/movies", MovieHttp.NewMovie(), Ct),
            await client.PutAsJsonAsync($"/movies/{id}", MovieHttp.NewMovie(), Ct),
            await client.DeleteAsync($"/movies/{id}", Ct),
        ];

        foreach (var response in responses)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.Equal(401, problem.GetProperty("status").GetInt32());
            Assert.True(problem.TryGetProperty("traceId", out _));
        }
    }

    [Theory]
    [InlineData("title")]
    [InlineData("-title")]
    [InlineData("year")]
    [InlineData("-year")]
    [InlineData("created")]
    [InlineData("-created")]
    public async Task Walking_the_pages_of_any_sort_returns_every_movie_once_with_its_genres_even_among_equal_titles(string sort)
    {
        using var client = service.ClientFor($"pager-{Guid.NewGuid():N}");
        for (var i = 0; i < 7; i++)
        {
            // Equal titles and years: only the id breaks the ties.
            await MovieHttp.CreateAsync(client, MovieHttp.NewMovie(i < 4 ? "Same" : $"Other {i}", 1990 + (i % 2), [$"Genre {i}", "Shared"]));
        }

        var whole = (await client.GetFromJsonAsync<MoviePageJson>($"/movies?sort={sort}&pageSize=100", Ct))!;
        var walked = new List<MovieJson>();
        for (var page = 1; page <= 4; page++)
        {
            var part = (await client.GetFromJsonAsync<MoviePageJson>($"/movies?sort={sort}&pageSize=2&page={page}", Ct))!;
            Assert.Equal(7, part.TotalCount);
            walked.AddRange(part.Items);
        }

        Assert.Equal(7, whole.Items.Length);
        Assert.Equal(whole.Items.Select(m => m.Id), walked.Select(m => m.Id));
        Assert.All(walked, m => Assert.Equal(2, m.Genres.Length));
        Assert.Equal(whole.Items.Select(m => string.Join('|', m.Genres)), walked.Select(m => string.Join('|', m.Genres)));
    }

    [Fact]
    public async Task A_created_movie_has_a_location_an_etag_and_reads_back_identically_with_unicode_intact()
    {
        var owner = NewUser();
        using var client = service.ClientFor(owner);
        var body = MovieHttp.NewMovie("東京物語 — Tokyo Story 🎬", 1953, ["Drama", "Família"], 136, "Ozu's \"masterpiece\".\nLine two — ✓");

        var (created, response) = await MovieHttp.CreateAsync(client, body);

        Assert.Equal($"/movies/{created.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal("\"1\"", response.Headers.ETag?.Tag);
        Assert.False(response.Headers.ETag!.IsWeak);
        Assert.Equal(owner, created.OwnerId);
        Assert.Equal("東京物語 — Tokyo Story 🎬", created.Title);
        Assert.Equal(["Drama", "Família"], created.Genres);
        Assert.Equal("Ozu's \"masterpiece\".\nLine two — ✓", created.Synopsis);

        using var get = await client.GetAsync($"/movies/{created.Id}", Ct);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("\"1\"", get.Headers.ETag?.Tag);
        Assert.Equal(created with { Genres = [] }, (await get.Content.ReadFromJsonAsync<MovieJson>(Ct))! with { Genres = [] });
    }

    [Fact]
    public async Task Ids_and_owner_in_the_body_are_ignored()
    {
        var owner = NewUser();
        using var client = service.ClientFor(owner);
        var forcedId = Guid.NewGuid().ToString();

        var (created, _) = await MovieHttp.CreateAsync(client, new { id = forcedId, ownerId = "someone-else", title = "Mass assignment", releaseYear = 2000, version = 99 });

        Assert.NotEqual(forcedId, created.Id);
        Assert.Equal(owner, created.OwnerId);
        using var get = await client.GetAsync($"/movies/{created.Id}", Ct);
        Assert.Equal("\"1\"", get.Headers.ETag?.Tag);
    }

    [Fact]
    public async Task Another_user_can_neither_see_list_update_nor_delete_a_movie()
    {
        using var alice = service.ClientFor(NewUser());
        using var bob = service.ClientFor(NewUser());
        var (movie, _) = await MovieHttp.CreateAsync(alice);

        using var get = await bob.GetAsync($"/movies/{movie.Id}", Ct);
        var list = await bob.GetFromJsonAsync<MoviePageJson>("/movies", Ct);
        using var put = await bob.SendAsync(Put(movie.Id, "\"1\"", MovieHttp.NewMovie("Hijacked")), Ct);
        using var delete = await bob.DeleteAsync($"/movies/{movie.Id}", Ct);
        using var ownerFilter = await bob.GetAsync($"/movies?owner={movie.OwnerId}", Ct);

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Empty(list!.Items);
        Assert.Equal(HttpStatusCode.NotFound, put.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, ownerFilter.StatusCode);
        var unchanged = await alice.GetFromJsonAsync<MovieJson>($"/movies/{movie.Id}", Ct);
        Assert.Equal(movie.Title, unchanged!.Title);
    }

    [Fact]
    public async Task An_admin_may_read_list_update_and_delete_anyones_movies()
    {
        var carolId = NewUser();
        using var carol = service.ClientFor(carolId);
        using var dave = service.ClientFor(NewUser());
        using var admin = service.AdminClient();
        var (carols, _) = await MovieHttp.CreateAsync(carol, MovieHttp.NewMovie("Carol's"));
        var (daves, _) = await MovieHttp.CreateAsync(dave, MovieHttp.NewMovie("Dave's"));

        var own = await admin.GetFromJsonAsync<MoviePageJson>("/movies", Ct);
        var byOwner = await admin.GetFromJsonAsync<MoviePageJson>($"/movies?owner={carolId}", Ct);
        var all = await admin.GetFromJsonAsync<MoviePageJson>("/movies?owner=all&pageSize=100&sort=-created", Ct);
        using var get = await admin.GetAsync($"/movies/{carols.Id}", Ct);
        using var put = await admin.SendAsync(Put(carols.Id, "\"1\"", MovieHttp.NewMovie("Carol's, fixed")), Ct);
        using var delete = await admin.DeleteAsync($"/movies/{daves.Id}", Ct);

        Assert.Empty(own!.Items);
        Assert.Equal([carols.Id], byOwner!.Items.Select(m => m.Id));
        Assert.Contains(all!.Items, m => m.Id == carols.Id);
        Assert.Contains(all.Items, m => m.Id == daves.Id);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(carolId, (await put.Content.ReadFromJsonAsync<MovieJson>(Ct))!.OwnerId);
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await dave.GetAsync($"/movies/{daves.Id}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Listing_pages_sorts_searches_and_filters_correctly()
    {
        using var client = service.ClientFor(NewUser());
        var seeded = new (string Title, int Year, string[] Genres)[]
        {
            ("Alien", 1979, ["Horror", "Science Fiction"]),
            ("Amélie", 2001, ["Comedy", "Romance"]),
            ("Apocalypse Now", 1979, ["War", "Drama"]),
            ("Brazil", 1985, ["Science Fiction", "Comedy"]),
            ("Casablanca", 1942, ["Romance", "Drama"]),
            ("Chinatown", 1974, ["Crime", "Drama"]),
            ("Das Boot", 1981, ["War"]),
            ("Heat", 1995, ["Crime"]),
            ("Metropolis", 1927, ["Science Fiction"]),
            ("Rashomon", 1950, ["Crime", "Drama"]),
            ("Stalker", 1979, ["Science Fiction", "Drama"]),
            ("The Third Man", 1949, ["Crime"]),
        };
        foreach (var (title, year, genres) in seeded)
        {
            await MovieHttp.CreateAsync(client, MovieHttp.NewMovie(title, year, genres));
        }

        var first = await client.GetFromJsonAsync<MoviePageJson>("/movies?pageSize=5", Ct);
        var third = await client.GetFromJsonAsync<MoviePageJson>("/movies?pageSize=5&page=3", Ct);
        var beyond = await client.GetFromJsonAsync<MoviePageJson>("/movies?pageSize=5&page=4", Ct);
        Assert.Equal((1, 5, 12L), (first!.Page, first.PageSize, first.TotalCount));
        Assert.Equal(["Alien", "Amélie", "Apocalypse Now", "Brazil", "Casablanca"], first.Items.Select(m => m.Title));
        Assert.Equal(["Stalker", "The Third Man"], third!.Items.Select(m => m.Title));
        Assert.Empty(beyond!.Items);
        Assert.Equal(12, beyond.TotalCount);

        var byYearDesc = await client.GetFromJsonAsync<MoviePageJson>("/movies?sort=-year&pageSize=3", Ct);
        Assert.Equal(["Amélie", "Heat", "Brazil"], byYearDesc!.Items.Select(m => m.Title));
        var byYear = await client.GetFromJsonAsync<MoviePageJson>("/movies?sort=year&pageSize=2", Ct);
        Assert.Equal(["Metropolis", "Casablanca"], byYear!.Items.Select(m => m.Title));
        var byTitleDesc = await client.GetFromJsonAsync<MoviePageJson>("/movies?sort=-title&pageSize=2", Ct);
        Assert.Equal(["The Third Man", "Stalker"], byTitleDesc!.Items.Select(m => m.Title));
        var newest = await client.GetFromJsonAsync<MoviePageJson>("/movies?sort=-created&pageSize=1", Ct);
        Assert.Equal(["The Third Man"], newest!.Items.Select(m => m.Title));
        var oldest = await client.GetFromJsonAsync<MoviePageJson>("/movies?sort=created&pageSize=1", Ct);
        Assert.Equal(["Alien"], oldest!.Items.Select(m => m.Title));

        var search = await client.GetFromJsonAsync<MoviePageJson>("/movies?search=AL", Ct);
        Assert.Equal(["Alien", "Apocalypse Now", "Stalker"], search!.Items.Select(m => m.Title));
        var accented = await client.GetFromJsonAsync<MoviePageJson>("/movies?search=" + Uri.EscapeDataString("amélie"), Ct);
        Assert.Equal(["Amélie"], accented!.Items.Select(m => m.Title));
        var genre = await client.GetFromJsonAsync<MoviePageJson>("/movies?genre=science%20FICTION", Ct);
        Assert.Equal(["Alien", "Brazil", "Metropolis", "Stalker"], genre!.Items.Select(m => m.Title));
        var of1979 = await client.GetFromJsonAsync<MoviePageJson>("/movies?year=1979&sort=-title", Ct);
        Assert.Equal(["Stalker", "Apocalypse Now", "Alien"], of1979!.Items.Select(m => m.Title));
        var combined = await client.GetFromJsonAsync<MoviePageJson>("/movies?genre=drama&year=1979&search=stal", Ct);
        Assert.Equal(["Stalker"], combined!.Items.Select(m => m.Title));
        Assert.Equal(1, combined.TotalCount);
    }

    [Fact]
    public async Task Two_updates_with_the_same_etag_one_wins_and_the_other_gets_412()
    {
        using var client = service.ClientFor(NewUser());
        var (movie, _) = await MovieHttp.CreateAsync(client);

        var responses = await Task.WhenAll(
            client.SendAsync(Put(movie.Id, "\"1\"", MovieHttp.NewMovie("First writer", genres: ["A", "B"])), Ct),
            client.SendAsync(Put(movie.Id, "\"1\"", MovieHttp.NewMovie("Second writer", genres: ["C"])), Ct));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.PreconditionFailed], responses.Select(r => r.StatusCode).Order());
        var winner = await responses.Single(r => r.IsSuccessStatusCode).Content.ReadFromJsonAsync<MovieJson>(Ct);
        using var current = await client.GetAsync($"/movies/{movie.Id}", Ct);
        var stored = await current.Content.ReadFromJsonAsync<MovieJson>(Ct);
        Assert.Equal("\"2\"", current.Headers.ETag?.Tag);
        Assert.Equal(winner!.Title, stored!.Title);
        Assert.Equal(winner.Genres, stored.Genres);
    }

    [Fact]
    public async Task Updates_need_a_matching_strong_etag()
    {
        using var client = service.ClientFor(NewUser());
        var (movie, _) = await MovieHttp.CreateAsync(client);

        using var missing = await client.PutAsJsonAsync($"/movies/{movie.Id}", MovieHttp.NewMovie("No precondition"), Ct);
        using var weak = await client.SendAsync(Put(movie.Id, "W/\"1\"", MovieHttp.NewMovie("Weak")), Ct);
        using var stale = await client.SendAsync(Put(movie.Id, "\"7\"", MovieHttp.NewMovie("Stale")), Ct);
        using var ok = await client.SendAsync(Put(movie.Id, "\"1\"", MovieHttp.NewMovie("Fresh", genres: [])), Ct);
        using var star = await client.SendAsync(Put(movie.Id, "*", MovieHttp.NewMovie("Whatever is current")), Ct);
        using var oldAgain = await client.SendAsync(Put(movie.Id, "\"1\"", MovieHttp.NewMovie("Lost update")), Ct);

        Assert.Equal(HttpStatusCode.PreconditionRequired, missing.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, weak.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("\"2\"", ok.Headers.ETag?.Tag);
        Assert.Empty((await ok.Content.ReadFromJsonAsync<MovieJson>(Ct))!.Genres);
        Assert.Equal(HttpStatusCode.OK, star.StatusCode);
        Assert.Equal("\"3\"", star.Headers.ETag?.Tag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, oldAgain.StatusCode);
        var stored = await client.GetFromJsonAsync<MovieJson>($"/movies/{movie.Id}", Ct);
        Assert.Equal("Whatever is current", stored!.Title);
        Assert.True(stored.UpdatedAt > stored.CreatedAt);
    }

    [Fact]
    public async Task Delete_answers_204_then_404_and_honours_if_match()
    {
        using var client = service.ClientFor(NewUser());
        var (movie, _) = await MovieHttp.CreateAsync(client);

        using var stale = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/movies/{movie.Id}") { Headers = { IfMatch = { new EntityTagHeaderValue("\"5\"") } } }, Ct);
        using var deleted = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/movies/{movie.Id}") { Headers = { IfMatch = { new EntityTagHeaderValue("\"1\"") } } }, Ct);
        using var again = await client.DeleteAsync($"/movies/{movie.Id}", Ct);

        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(0L, await service.Database.ScalarAsync<long>("SELECT COUNT(*) FROM movie_genres g JOIN movies m ON m.Id = g.MovieId WHERE m.Id = @id", ("@id", movie.Id)));
        Assert.Equal(0L, await service.Database.ScalarAsync<long>("SELECT COUNT(*) FROM movie_genres WHERE MovieId = @id", ("@id", movie.Id)));
    }

    [Fact]
    public async Task Error_answers_are_problem_details_with_a_trace_id()
    {
        using var client = service.ClientFor(NewUser());

        using var notFound = await client.GetAsync($"/movies/{Guid.NewGuid()}", Ct);
        using var invalid = await client.PostAsJsonAsync("/movies", new { title = "" }, Ct);

        foreach (var response in new[] { notFound, invalid })
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.Equal((int)response.StatusCode, problem.GetProperty("status").GetInt32());
            Assert.False(string.IsNullOrEmpty(problem.GetProperty("traceId").GetString()));
        }
    }

    internal static HttpRequestMessage Put(string id, string ifMatch, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"/movies/{id}") { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return request;
    }
}

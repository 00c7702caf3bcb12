using System.Net;
using System.Net.Http.Json;

namespace MovieDb.Tests.Integration.Movies;

/// <summary>Keyset pagination of the movie list (<c>after</c> = a page's <c>next</c>) against MariaDB.</summary>
public sealed class MovieCursorPagingTests(MovieServiceFixture service) : IClassFixture<MovieServiceFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("title", 2)]
    [InlineData("-title", 2)]
    [InlineData("year", 3)]
    [InlineData("-year", 3)]
    [InlineData("created", 2)]
    [InlineData("-created", 3)]
    public async Task Following_next_in_any_sort_returns_every_movie_once_in_list_order_even_among_titles_the_collation_calls_equal(string sort, int pageSize)
    {
        var owner = $"cursor-{Guid.NewGuid():N}";
        using var client = service.ClientFor(owner);
        string[] titles = ["Same", "same", "SÀME", "Sáme", "Other 1", "Other 2", "Zeta", "alpha", "Same"];
        for (var i = 0; i < titles.Length; i++)
        {
            await MovieHttp.CreateAsync(client, MovieHttp.NewMovie(titles[i], 1990 + (i % 2), [$"Genre {i}", "Shared"]));
        }

        // Movies created in the same microsecond: by creation time, only the id orders them.
        await service.Database.ExecuteAsync($"UPDATE movies SET CreatedAt = '2020-02-02 02:02:02.000002' WHERE OwnerId = '{owner}' AND Title LIKE 'S%'");

        var whole = (await client.GetFromJsonAsync<MoviePageJson>($"/movies?sort={sort}&pageSize=100", Ct))!;
        Assert.Null(whole.Next);

        var first = (await client.GetFromJsonAsync<MoviePageJson>($"/movies?sort={sort}&pageSize={pageSize}", Ct))!;
        Assert.Equal((1, 9L), (first.Page, first.TotalCount));
        var walked = new List<MovieJson>(first.Items);
        var pages = new List<MoviePageJson> { first };
        for (var next = first.Next; next is not null; next = pages[^1].Next)
        {
            Assert.True(pages.Count < 10, "the cursor does not advance");
            var page = (await client.GetFromJsonAsync<MoviePageJson>($"/movies?sort={sort}&pageSize={pageSize}&after={Uri.EscapeDataString(next)}", Ct))!;
            Assert.Equal((null, pageSize, null), (page.Page, page.PageSize, page.TotalCount));
            walked.AddRange(page.Items);
            pages.Add(page);
        }

        Assert.Equal(whole.Items.Select(m => m.Id), walked.Select(m => m.Id));
        Assert.Equal((9 + pageSize - 1) / pageSize, pages.Count);
        Assert.All(pages[..^1], page => Assert.Equal(pageSize, page.Items.Length));
        Assert.NotEmpty(pages[^1].Items);
        Assert.Equal(whole.Items.Select(m => string.Join('|', m.Genres)), walked.Select(m => string.Join('|', m.Genres)));
    }

    [Theory]
    [InlineData("title")]
    [InlineData("-year")]
    public async Task The_cursor_after_a_movie_with_the_longest_title_the_service_accepts_is_accepted_too(string sort)
    {
        using var client = service.ClientFor($"cursor-{Guid.NewGuid():N}");
        string[] titles =
        [
            new string('A', 199) + "🎬",
            string.Concat(Enumerable.Repeat("🎬", 200)),
            string.Concat(Enumerable.Repeat("\"\\", 100)),
            new string('\u200b', 199) + "z",
            "Zzz",
        ];
        foreach (var title in titles)
        {
            await MovieHttp.CreateAsync(client, MovieHttp.NewMovie(title));
        }

        var walked = new List<string>();
        var page = (await client.GetFromJsonAsync<MoviePageJson>($"/movies?sort={sort}&pageSize=1", Ct))!;
        walked.AddRange(page.Items.Select(m => m.Title));
        while (page.Next is { } next)
        {
            using var response = await client.GetAsync($"/movies?sort={sort}&pageSize=1&after={next}", Ct);
            Assert.True(response.IsSuccessStatusCode, $"after a {next.Length}-character cursor: {(int)response.StatusCode}");
            page = (await response.Content.ReadFromJsonAsync<MoviePageJson>(Ct))!;
            walked.AddRange(page.Items.Select(m => m.Title));
        }

        Assert.Equal(titles.Order(StringComparer.Ordinal), walked.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_last_page_has_no_next_whether_found_by_number_or_by_cursor_even_when_it_is_full()
    {
        using var client = service.ClientFor($"cursor-{Guid.NewGuid():N}");
        foreach (var title in new[] { "A", "B", "C", "D" })
        {
            await MovieHttp.CreateAsync(client, MovieHttp.NewMovie(title));
        }

        var second = (await client.GetFromJsonAsync<MoviePageJson>("/movies?pageSize=2&page=2&after=", Ct))!;
        Assert.Equal(["C", "D"], second.Items.Select(m => m.Title));
        Assert.Null(second.Next);

        var first = (await client.GetFromJsonAsync<MoviePageJson>("/movies?pageSize=2", Ct))!;
        var byCursor = (await client.GetFromJsonAsync<MoviePageJson>($"/movies?pageSize=2&after={first.Next}", Ct))!;
        Assert.Equal(["C", "D"], byCursor.Items.Select(m => m.Title));
        Assert.Null(byCursor.Next);

        var past = (await client.GetFromJsonAsync<MoviePageJson>("/movies?pageSize=2&page=3", Ct))!;
        Assert.Empty(past.Items);
        Assert.Null(past.Next);
    }

    [Fact]
    public async Task Movies_added_or_deleted_between_pages_move_no_other_movie_into_or_out_of_the_walk()
    {
        using var client = service.ClientFor($"cursor-{Guid.NewGuid():N}");
        var created = new Dictionary<string, string>();
        foreach (var title in new[] { "B1", "B2", "B3", "B4", "B5", "B6" })
        {
            created[title] = (await MovieHttp.CreateAsync(client, MovieHttp.NewMovie(title))).Movie.Id;
        }

        var first = (await client.GetFromJsonAsync<MoviePageJson>("/movies?pageSize=2", Ct))!;
        Assert.Equal(["B1", "B2"], first.Items.Select(m => m.Title));

        // Before the cursor: one movie added, and the very movie the cursor was taken from deleted.
        // With page numbers, page 2 would now repeat B2's neighbour or skip B3.
        await MovieHttp.CreateAsync(client, MovieHttp.NewMovie("A0"));
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/movies/{created["B2"]}", Ct)).StatusCode);

        var second = (await client.GetFromJsonAsync<MoviePageJson>($"/movies?pageSize=2&after={first.Next}", Ct))!;
        var third = (await client.GetFromJsonAsync<MoviePageJson>($"/movies?pageSize=2&after={second.Next}", Ct))!;
        Assert.Equal(["B3", "B4"], second.Items.Select(m => m.Title));
        Assert.Equal(["B5", "B6"], third.Items.Select(m => m.Title));
        Assert.Null(third.Next);
    }

    [Fact]
    public async Task A_cursor_is_only_a_position_the_owner_and_filters_of_the_request_still_decide_what_is_listed()
    {
        var alice = $"cursor-alice-{Guid.NewGuid():N}";
        using var aliceClient = service.ClientFor(alice);
        using var bobClient = service.ClientFor($"cursor-bob-{Guid.NewGuid():N}");
        await MovieHttp.CreateAsync(aliceClient, MovieHttp.NewMovie("M1", genres: ["Drama"]));
        await MovieHttp.CreateAsync(aliceClient, MovieHttp.NewMovie("M2", genres: ["Drama"]));
        await MovieHttp.CreateAsync(aliceClient, MovieHttp.NewMovie("M3", genres: ["Comedy"]));
        await MovieHttp.CreateAsync(aliceClient, MovieHttp.NewMovie("M4", genres: ["Drama"]));
        await MovieHttp.CreateAsync(bobClient, MovieHttp.NewMovie("M1b"));
        await MovieHttp.CreateAsync(bobClient, MovieHttp.NewMovie("M5"));

        var alicesFirst = (await aliceClient.GetFromJsonAsync<MoviePageJson>("/movies?pageSize=2&genre=drama", Ct))!;
        Assert.Equal(["M1", "M2"], alicesFirst.Items.Select(m => m.Title));
        var alicesNext = (await aliceClient.GetFromJsonAsync<MoviePageJson>($"/movies?pageSize=2&genre=drama&after={alicesFirst.Next}", Ct))!;
        Assert.Equal(["M4"], alicesNext.Items.Select(m => m.Title));

        var bobs = (await bobClient.GetFromJsonAsync<MoviePageJson>($"/movies?pageSize=2&after={alicesFirst.Next}", Ct))!;
        Assert.Equal(["M5"], bobs.Items.Select(m => m.Title));
        Assert.Null(bobs.Next);
    }

    [Fact]
    public async Task A_cursor_of_another_sort_or_with_a_page_number_is_a_400_naming_the_parameter()
    {
        using var client = service.ClientFor($"cursor-{Guid.NewGuid():N}");
        await MovieHttp.CreateAsync(client, MovieHttp.NewMovie("A"));
        await MovieHttp.CreateAsync(client, MovieHttp.NewMovie("B"));
        var next = (await client.GetFromJsonAsync<MoviePageJson>("/movies?pageSize=1&sort=-created", Ct))!.Next;
        Assert.NotNull(next);

        await AssertBadQuery(client, $"/movies?pageSize=1&sort=created&after={next}", "after");
        await AssertBadQuery(client, $"/movies?pageSize=1&after={next}", "after");
        await AssertBadQuery(client, $"/movies?pageSize=1&sort=-created&page=2&after={next}", "page");
        using var fine = await client.GetAsync($"/movies?pageSize=1&sort=-created&page=1&after={next}", Ct);
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
    }

    private static async Task AssertBadQuery(HttpClient client, string path, string field)
    {
        using var response = await client.GetAsync(path, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Ct);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace MovieDb.Tests.Integration.Movies;

/// <summary>A sweep of malformed requests: each gets its 4xx with problem details, never a 5xx.</summary>
public sealed class MovieBadInputTests(MovieServiceFixture service) : IClassFixture<MovieServiceFixture>
{
    private const string Json = "application/json";

    public static TheoryData<string, string, string, string?, string?, int> Requests()
    {
        var id = Guid.NewGuid();
        var nested = new string('[', 1000) + new string(']', 1000);
        return new TheoryData<string, string, string, string?, string?, int>
        {
            { "truncated JSON", "POST", "/movies", "{\"title\": \"x\"", Json, 400 },
            { "not JSON at all", "POST", "/movies", "title=x&year=1", Json, 400 },
            { "a JSON array", "POST", "/movies", "[]", Json, 400 },
            { "a JSON string", "POST", "/movies", "\"movie\"", Json, 400 },
            { "JSON null", "POST", "/movies", "null", Json, 400 },
            { "an empty body", "POST", "/movies", "", Json, 400 },
            { "text/plain", "POST", "/movies", "{\"title\":\"x\",\"releaseYear\":2000}", "text/plain", 415 },
            { "no content type", "POST", "/movies", "{\"title\":\"x\",\"releaseYear\":2000}", null, 415 },
            { "year as a word", "POST", "/movies", "{\"title\":\"x\",\"releaseYear\":\"nineteen\"}", Json, 400 },
            { "year as a fraction", "POST", "/movies", "{\"title\":\"x\",\"releaseYear\":1999.5}", Json, 400 },
            { "year beyond Int32", "POST", "/movies", "{\"title\":\"x\",\"releaseYear\":99999999999}", Json, 400 },
            { "genres as a string", "POST", "/movies", "{\"title\":\"x\",\"releaseYear\":2000,\"genres\":\"Drama\"}", Json, 400 },
            { "genres as numbers", "POST", "/movies", "{\"title\":\"x\",\"releaseYear\":2000,\"genres\":[1,2]}", Json, 400 },
            { "genres as objects", "POST", "/movies", "{\"title\":\"x\",\"releaseYear\":2000,\"genres\":[{}]}", Json, 400 },
            { "runtime as a boolean", "POST", "/movies", "{\"title\":\"x\",\"releaseYear\":2000,\"runtimeMinutes\":true}", Json, 400 },
            { "title as a number", "POST", "/movies", "{\"title\":42,\"releaseYear\":2000}", Json, 400 },
            { "title as an object", "POST", "/movies", "{\"title\":{\"en\":\"x\"},\"releaseYear\":2000}", Json, 400 },
            { "a 1 MB title", "POST", "/movies", "{\"title\":\"" + new string('x', 1_000_000) + "\",\"releaseYear\":2000}", Json, 413 },
            { "100 KB of whitespace", "POST", "/movies", new string(' ', 100_000) + "{}", Json, 413 },
            { "JSON nested 1000 deep", "POST", "/movies", nested, Json, 400 },
            { "comments in JSON", "POST", "/movies", "{/* hi */\"title\":\"x\",\"releaseYear\":2000}", Json, 400 },
            { "trailing comma", "POST", "/movies", "{\"title\":\"x\",\"releaseYear\":2000,}", Json, 400 },
            { "an id that is not a GUID", "GET", "/movies/not-a-guid", null, null, 404 },
            { "a numeric id on PUT", "PUT", "/movies/123", "{}", Json, 404 },
            { "a path traversal id", "DELETE", "/movies/..%2F..%2Fhealth", null, null, 404 },
            { "page 0", "GET", "/movies?page=0", null, null, 400 },
            { "a negative page", "GET", "/movies?page=-1", null, null, 400 },
            { "a page that is a word", "GET", "/movies?page=first", null, null, 400 },
            { "a page beyond Int32", "GET", "/movies?page=99999999999", null, null, 400 },
            { "page size 0", "GET", "/movies?pageSize=0", null, null, 400 },
            { "page size 101", "GET", "/movies?pageSize=101", null, null, 400 },
            { "a year that is a word", "GET", "/movies?year=recent", null, null, 400 },
            { "an unknown sort key", "GET", "/movies?sort=rating", null, null, 400 },
            { "a doubled sort prefix", "GET", "/movies?sort=--title", null, null, 400 },
            { "a 300-character search", "GET", "/movies?search=" + new string('s', 300), null, null, 400 },
            { "a 41-character genre filter", "GET", "/movies?genre=" + new string('g', 41), null, null, 400 },
            { "a cursor that is not base64url", "GET", "/movies?after=%25%25%25", null, null, 400 },
            { "a cursor that is not JSON", "GET", "/movies?after=" + Cursor("hello"), null, null, 400 },
            { "a cursor of another JSON shape", "GET", "/movies?after=" + Cursor("{\"title\":\"x\"}"), null, null, 400 },
            { "a cursor of nulls", "GET", "/movies?after=" + Cursor("[null,null,null]"), null, null, 400 },
            { "a cursor with a bad id", "GET", "/movies?after=" + Cursor("[\"title\",\"x\",\"not-a-guid\"]"), null, null, 400 },
            { "a cursor with a 300-character title", "GET", "/movies?after=" + Cursor($"[\"title\",\"{new string('t', 300)}\",\"{id}\"]"), null, null, 400 },
            { "a cursor with a year that is a word", "GET", "/movies?sort=year&after=" + Cursor($"[\"year\",\"recent\",\"x\",\"{id}\"]"), null, null, 400 },
            { "a cursor with a negative year", "GET", "/movies?sort=year&after=" + Cursor($"[\"year\",\"-1\",\"x\",\"{id}\"]"), null, null, 400 },
            { "a cursor with a time beyond DateTime", "GET", "/movies?sort=created&after=" + Cursor($"[\"created\",\"{long.MaxValue}\",\"{id}\"]"), null, null, 400 },
            { "a cursor with too many keys", "GET", "/movies?after=" + Cursor($"[\"title\",\"x\",\"y\",\"{id}\"]"), null, null, 400 },
            { "a cursor nested 300 deep", "GET", "/movies?after=" + Cursor(new string('[', 300) + new string(']', 300)), null, null, 400 },
            { "a 5000-character cursor", "GET", "/movies?after=" + new string('A', 5000), null, null, 400 },
            { "a cursor with a lone surrogate in its title", "GET", "/movies?after=" + Cursor($"[\"title\",\"x\\uD83C\",\"{id}\"]"), null, null, 400 },
            { "PATCH is not supported", "PATCH", $"/movies/{id}", "{}", Json, 405 },
            { "POST to an id", "POST", $"/movies/{id}", "{}", Json, 405 },
            { "PUT without If-Match on a missing movie", "PUT", $"/movies/{id}", "{\"title\":\"x\",\"releaseYear\":2000}", Json, 428 },
        };
    }

    private static string Cursor(string json) => System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task A_malformed_request_gets_a_4xx_problem(string description, string method, string path, string? body, string? contentType, int expected)
    {
        using var client = service.ClientFor($"user-{Guid.NewGuid():N}");
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
            {
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
            }
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.True(expected == (int)response.StatusCode, $"{description}: expected {expected}, got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal(expected, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Invalid_UTF8_in_the_body_is_a_400()
    {
        using var client = service.ClientFor($"user-{Guid.NewGuid():N}");
        var bytes = Encoding.UTF8.GetBytes("{\"title\":\"xx\",\"releaseYear\":2000}");
        bytes[10] = 0xC3;
        bytes[11] = 0x28;
        using var content = new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue(Json) } };

        using var response = await client.PostAsync("/movies", content, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    /// <summary>
    /// The movie service believes only identities the gateway signed: hand-made identity headers, a
    /// token signed with another key, for another audience, expired, or unsigned are all 401.
    /// </summary>
    [Fact]
    public async Task Forged_identities_straight_to_the_movie_service_are_401()
    {
        var ct = TestContext.Current.CancellationToken;
        var forged = new (string Name, Action<HttpClient> Forge)[]
        {
            ("identity headers", client =>
            {
                client.DefaultRequestHeaders.Add("X-User-Id", "victim");
                client.DefaultRequestHeaders.Add("X-User-Roles", "admin");
            }),
            ("another key", client => client.DefaultRequestHeaders.Authorization = new("Bearer", MovieServiceFixture.IdentityToken("victim", "victim", ["admin"], key: "attacker-key-attacker-key-attacker-key-attacker-key"))),
            ("another audience", client => client.DefaultRequestHeaders.Authorization = new("Bearer", MovieServiceFixture.IdentityToken("victim", "victim", ["admin"], audience: "moviedb-api"))),
            ("expired", client => client.DefaultRequestHeaders.Authorization = new("Bearer", MovieServiceFixture.IdentityToken("victim", "victim", ["admin"], expires: DateTime.UtcNow.AddMinutes(-5)))),
            ("a user's access token", client => client.DefaultRequestHeaders.Authorization = new("Bearer", EndToEnd.Security.TestTokens.Create("victim", roles: ["admin"]))),
            ("no signature", client => client.DefaultRequestHeaders.Authorization = new("Bearer", EndToEnd.Security.TestTokens.AlgNone(MovieServiceFixture.IdentityToken("victim", "victim", ["admin"])))),
        };

        foreach (var (name, forge) in forged)
        {
            using var client = service.AnonymousClient();
            forge(client);
            using var list = await client.GetAsync("/movies?owner=all", ct);
            using var create = await client.PostAsJsonAsync("/movies", MovieHttp.NewMovie(), ct);
            Assert.True(list.StatusCode == HttpStatusCode.Unauthorized, $"{name}: {(int)list.StatusCode}");
            Assert.True(create.StatusCode == HttpStatusCode.Unauthorized, $"{name}: {(int)create.StatusCode}");
        }

        using var genuine = service.ClientFor("victim", roles: "admin");
        Assert.Equal(HttpStatusCode.OK, (await genuine.GetAsync("/movies?owner=all", ct)).StatusCode);
    }
}

using System.Net;
using System.Text.Json.Nodes;
using MovieDb.ServiceDefaults;
using MovieDb.Tests.Infrastructure;
using MovieService.Apis;
using MovieService.Contracts;
using MovieService.Model;

namespace MovieDb.Tests.EndToEnd;

/// <summary>
/// The public OpenAPI document the gateway serves: the movie routes exactly as the movie service's
/// own document describes them (its limits are its validation constants), the gateway's own
/// routes with every answer a client must handle, and what happens when the movie service is away.
/// </summary>
public sealed class OpenApiDocumentTests(OpenApiDocumentTests.System system, TestServers servers) : IClassFixture<OpenApiDocumentTests.System>
{
    public sealed class System(TestServers servers) : InProcessSystem(servers);

    /// <summary>A gateway whose movie service never answers: nothing listens on its port.</summary>
    private sealed class MovieServiceAway(TestServers servers) : InProcessSystem(servers)
    {
        protected override IDictionary<string, string?> GatewaySettings => new Dictionary<string, string?>
        {
            ["services:movieservice:http:0"] = $"http://127.0.0.1:{ServiceProcess.FreePort()}",
        };
    }

    /// <summary>A gateway that builds the public document on every request (no cached copy hides what it does then).</summary>
    private sealed class Uncached(TestServers servers) : InProcessSystem(servers)
    {
        protected override IDictionary<string, string?> GatewaySettings => new Dictionary<string, string?> { ["OpenApi:CacheDuration"] = "00:00:00" };
    }

    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_public_document_lists_every_route_of_the_movie_service_under_api_movies_as_the_movie_service_describes_it()
    {
        var own = await MovieServiceDocumentAsync();
        var published = await PublicDocumentAsync(system);

        var ownPaths = own["paths"]!.AsObject();
        Assert.NotEmpty(ownPaths);
        foreach (var (path, item) in ownPaths)
        {
            Assert.StartsWith("/movies", path, StringComparison.Ordinal);
            var publicItem = published["paths"]?["/api" + path];
            Assert.True(publicItem is not null, $"/api{path} is missing from the public document");
            foreach (var (method, operation) in item!.AsObject())
            {
                var publicOperation = publicItem![method];
                Assert.True(publicOperation is not null, $"{method} /api{path} is missing");
                foreach (var field in new[] { "operationId", "summary", "description", "tags", "parameters", "requestBody" })
                {
                    Assert.True(JsonNode.DeepEquals(operation![field], publicOperation![field]), $"{method} /api{path}: {field} differs from the movie service's");
                }

                foreach (var (status, response) in operation!["responses"]!.AsObject())
                {
                    Assert.True(JsonNode.DeepEquals(response, publicOperation!["responses"]![status]), $"{method} /api{path}: response {status} differs from the movie service's");
                }

                // What the gateway adds on the way: its bearer token, and its own answers.
                Assert.Equal("""[{"Bearer":[]}]""", publicOperation!["security"]!.ToJsonString());
                foreach (var status in new[] { "401", "429", "503", "504" })
                {
                    Assert.Equal("#/components/schemas/ProblemDetails", publicOperation["responses"]![status]?["content"]?["application/problem+json"]?["schema"]?["$ref"]?.GetValue<string>());
                }
            }
        }

        // The schemas they use are the movie service's, not namesakes of the gateway's.
        foreach (var (name, schema) in own["components"]!["schemas"]!.AsObject())
        {
            Assert.True(JsonNode.DeepEquals(schema, published["components"]!["schemas"]![name]), $"schema {name} differs from the movie service's");
        }

        Assert.Equal(
            ["/api/movies", "/api/movies/{id}"],
            published["paths"]!.AsObject().Select(p => p.Key).Where(p => p.Contains("movies", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(published["paths"]!.AsObject(), p => !p.Key.StartsWith("/api/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_movie_limits_in_the_public_document_are_the_movie_services_validation_constants()
    {
        var published = await PublicDocumentAsync(system);

        var input = published["components"]!["schemas"]!["MovieInput"]!["properties"]!;
        Assert.Equal(1, input["title"]!["minLength"]!.GetValue<int>());
        Assert.Equal(MovieLimits.TitleMaxLength, input["title"]!["maxLength"]!.GetValue<int>());
        Assert.Equal(MovieLimits.FirstReleaseYear, input["releaseYear"]!["minimum"]!.GetValue<int>());
        Assert.Equal(MovieRules.LastReleaseYear(TimeProvider.System), input["releaseYear"]!["maximum"]!.GetValue<int>());
        Assert.Equal(MovieLimits.MaxGenres, input["genres"]!["maxItems"]!.GetValue<int>());
        Assert.Equal(MovieLimits.GenreMaxLength, input["genres"]!["items"]!["maxLength"]!.GetValue<int>());
        Assert.Equal(MovieLimits.RuntimeMin, input["runtimeMinutes"]!["minimum"]!.GetValue<int>());
        Assert.Equal(MovieLimits.RuntimeMax, input["runtimeMinutes"]!["maximum"]!.GetValue<int>());
        Assert.Equal(MovieLimits.SynopsisMaxLength, input["synopsis"]!["maxLength"]!.GetValue<int>());
        Assert.Equal(["releaseYear", "title"], published["components"]!["schemas"]!["MovieInput"]!["required"]!.AsArray().Select(n => n!.GetValue<string>()).Order(StringComparer.Ordinal));

        var query = published["paths"]!["/api/movies"]!["get"]!["parameters"]!.AsArray().ToDictionary(p => p!["name"]!.GetValue<string>(), p => p!);
        Assert.Equal(["after", "genre", "owner", "page", "pageSize", "search", "sort", "year"], query.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(MovieCursor.MaxLength, query["after"]["schema"]!["maxLength"]!.GetValue<int>());
        Assert.Equal(MovieListQuery.MaxSearchLength, query["search"]["schema"]!["maxLength"]!.GetValue<int>());
        Assert.Equal(MovieLimits.GenreMaxLength, query["genre"]["schema"]!["maxLength"]!.GetValue<int>());
        Assert.Equal(MovieListQuery.MaxOwnerLength, query["owner"]["schema"]!["maxLength"]!.GetValue<int>());
        Assert.Equal(PagingRules.MaxPage, query["page"]["schema"]!["maximum"]!.GetValue<int>());
        Assert.Equal(PagingRules.MaxPageSize, query["pageSize"]["schema"]!["maximum"]!.GetValue<int>());
        Assert.Equal(1, query["pageSize"]["schema"]!["minimum"]!.GetValue<int>());
        Assert.All(query.Values, p => Assert.False(string.IsNullOrEmpty(p["description"]?.GetValue<string>()), $"{p["name"]} has no description"));

        // A page found by cursor has neither a page number nor a total: the schema says they may be null.
        var page = published["components"]!["schemas"]!["PagedResultOfMovieDto"]!["properties"]!;
        Assert.All(new[] { "page", "totalCount", "next" }, name => Assert.Contains("null", page[name]!["type"]!.ToJsonString(), StringComparison.Ordinal));

        var update = published["paths"]!["/api/movies/{id}"]!["put"]!;
        Assert.Contains(update["parameters"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "If-Match" && p["in"]!.GetValue<string>() == "header" && p["required"]!.GetValue<bool>());
        Assert.NotNull(update["responses"]!["200"]!["headers"]!["ETag"]);
    }

    [Fact]
    public async Task Every_operation_states_its_security_and_its_problem_details_answers()
    {
        var published = await PublicDocumentAsync(system);

        Assert.Equal("bearer", published["components"]!["securitySchemes"]!["Bearer"]!["scheme"]!.GetValue<string>());
        var anonymous = new HashSet<string>(StringComparer.Ordinal) { "Register", "GetRegistrationStatus", "Activate", "SendActivationEmail", "RequestPasswordReset", "ConfirmPasswordReset", "Login", "Refresh" };
        var operations = Operations(published).ToDictionary(o => o["operationId"]!.GetValue<string>());
        Assert.Superset(anonymous, operations.Keys.ToHashSet());
        foreach (var (id, operation) in operations)
        {
            Assert.Equal(anonymous.Contains(id) ? "[]" : """[{"Bearer":[]}]""", operation["security"]?.ToJsonString());
            foreach (var (status, response) in operation["responses"]!.AsObject().Where(r => r.Key[0] is '4' or '5'))
            {
                Assert.True(response!["content"]?["application/problem+json"] is not null, $"{id}: {status} is not problem details");
            }

            Assert.True(operation["responses"]!["429"] is not null, $"{id} does not declare 429");
        }

        // The answers a client of each operation must handle, as the handlers give them.
        var expected = new Dictionary<string, string[]>
        {
            ["Register"] = ["400", "409", "503"],
            ["GetRegistrationStatus"] = ["400", "503", "504"],
            ["Activate"] = ["400", "503"],
            ["SendActivationEmail"] = ["400", "503"],
            ["Login"] = ["400", "401", "403", "503", "504"],
            ["Refresh"] = ["400", "401", "503", "504"],
            ["Logout"] = ["400", "401", "503"],
            ["GetMe"] = ["401", "404", "503", "504"],
            ["ListUsers"] = ["400", "401", "403", "503", "504"],
            ["GetUser"] = ["401", "403", "404", "503", "504"],
            ["UpdateUser"] = ["400", "401", "403", "404", "409", "503"],
            ["DeleteUser"] = ["401", "403", "404", "409", "503"],
            ["SignOutEverywhere"] = ["401", "403", "404", "503"],
            ["GetCommandStatus"] = ["400", "401", "503", "504"],
        };
        foreach (var (id, statuses) in expected)
        {
            var declared = operations[id]["responses"]!.AsObject().Select(r => r.Key).ToHashSet();
            Assert.True(declared.IsSupersetOf(statuses), $"{id} declares {string.Join(", ", declared)}; expected at least {string.Join(", ", statuses)}");
        }

        Assert.Equal("HttpValidationProblemDetails", operations["Register"]["responses"]!["400"]!["content"]!["application/problem+json"]!["schema"]!["$ref"]!.GetValue<string>().Split('/')[^1]);
        Assert.NotNull(operations["Login"]["responses"]!["503"]!["headers"]!["Retry-After"]);
    }

    [Fact]
    public async Task Without_the_movie_service_the_document_still_has_the_gateways_own_routes()
    {
        await using var away = new MovieServiceAway(servers);
        await away.InitializeAsync();

        var published = await PublicDocumentAsync(away);

        Assert.NotNull(published["paths"]!["/api/auth/login"]);
        Assert.Null(published["paths"]!["/api/movies"]);

        // A document without the movie routes is not kept: the next request asks the movie service again.
        using var client = away.CreateClient();
        using var again = await client.GetAsync("/openapi/v1.json", Ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Null(again.Headers.Age);
    }

    [Fact]
    public async Task The_public_document_is_built_once_for_every_caller_and_neither_a_made_up_token_nor_another_host_gets_around_the_copy()
    {
        using var anonymous = system.CreateClient();
        var first = await anonymous.GetStringAsync("/openapi/v1.json", Ct);

        using var pretending = system.CreateClient();
        pretending.DefaultRequestHeaders.Authorization = new("Bearer", "made.up.token");
        using var second = await pretending.GetAsync("/openapi/v1.json", Ct);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.NotNull(second.Headers.Age);
        Assert.Equal(first, await second.Content.ReadAsStringAsync(Ct));

        using var otherHost = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json") { Headers = { Host = $"made-up-{Guid.NewGuid():N}.example" } };
        using var third = await anonymous.SendAsync(otherHost, Ct);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.NotNull(third.Headers.Age);
    }

    [Fact]
    public async Task When_the_movie_service_stops_the_document_keeps_the_movie_routes_it_last_gave()
    {
        await using var stopping = new Uncached(servers);
        await stopping.InitializeAsync();
        Assert.NotNull((await PublicDocumentAsync(stopping))["paths"]!["/api/movies"]);

        await stopping.MovieService.DisposeAsync();
        using (var client = stopping.CreateClient())
        {
            // The movie routes now fail as the document says: 503 problem details.
            var user = await stopping.SignInAsAdminAsync();
            using var movies = user.CreateClient();
            await ProblemAssert.IsProblemAsync(await movies.GetAsync("/api/movies", Ct), HttpStatusCode.ServiceUnavailable);
        }

        var published = await PublicDocumentAsync(stopping);
        Assert.NotNull(published["paths"]!["/api/movies/{id}"]?["put"]);
        Assert.NotNull(published["components"]!["schemas"]!["MovieInput"]);
    }

    [Fact]
    public async Task The_movie_services_own_document_is_internal_and_the_gateway_does_not_proxy_it()
    {
        var user = await system.NewUserAsync();
        using var client = user.CreateClient();

        foreach (var path in new[] { "/movies/openapi/v1.json", "/api/movies/..%2Fopenapi%2Fv1.json", "/api/movies/%2e%2e/openapi/v1.json" })
        {
            using var response = await client.GetAsync(path, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
        }
    }

    private async Task<JsonNode> MovieServiceDocumentAsync()
    {
        using var client = system.MovieService.CreateClient();
        return JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json", Ct))!;
    }

    internal static async Task<JsonNode> PublicDocumentAsync(InProcessSystem target)
    {
        using var client = target.CreateClient();
        return JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json", Ct))!;
    }

    private static IEnumerable<JsonObject> Operations(JsonNode document) =>
        document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Where(o => Methods.Contains(o.Key)).Select(o => o.Value!.AsObject()));
}

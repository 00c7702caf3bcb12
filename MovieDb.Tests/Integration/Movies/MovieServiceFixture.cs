using System.Net.Http.Json;
using MovieDb.Tests.Infrastructure;
using MovieService;

namespace MovieDb.Tests.Integration.Movies;

/// <summary>
/// The movie service on a real Kestrel port, with its own MariaDB database and RabbitMQ virtual
/// host, shared by the tests of one class (each test uses its own user ids, so their data never mix).
/// </summary>
public sealed class MovieServiceFixture(TestServers servers) : IAsyncLifetime
{
    private TestDatabase? _database;
    private TestVirtualHost? _virtualHost;

    public ServiceFactory<MovieServiceApp> Factory { get; private set; } = null!;

    public TestDatabase Database => _database!;

    public TestVirtualHost VirtualHost => _virtualHost!;

    public async ValueTask InitializeAsync()
    {
        _database = await servers.MariaDb.CreateDatabaseAsync();
        _virtualHost = await servers.RabbitMq.CreateVirtualHostAsync();
        Factory = Create(_database.ConnectionString, _virtualHost.ConnectionString);
        using var client = Factory.CreateClient();
        await Wait.UntilAsync(async () => (await client.GetAsync("/health", TestContext.Current.CancellationToken)).IsSuccessStatusCode, "the movie service is ready");
    }

    public static ServiceFactory<MovieServiceApp> Create(string database, string messaging, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:moviedb"] = database,
            ["ConnectionStrings:messaging"] = messaging,
            ["GatewayIdentity:SigningKey"] = EndToEnd.InProcessSystem.IdentityKey,
            ["Messaging:EventSigningKey"] = EndToEnd.InProcessSystem.EventSigningKey,
            ["Messaging:RetryDelay"] = "00:00:00.010",
            ["Database:MaxRetryCount"] = "1",
            ["Database:MaxRetryDelay"] = "00:00:00.200",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var factory = new ServiceFactory<MovieServiceApp>(settings);
        factory.StartOnLoopback();
        return factory;
    }

    /// <summary>A client that calls as <paramref name="userId"/>, the way the gateway does: with an identity token it signed.</summary>
    public HttpClient ClientFor(string userId, string? name = null, string roles = "user")
    {
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Bearer", IdentityToken(userId, name ?? userId, roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
        return client;
    }

    /// <summary>Makes <paramref name="client"/> call as <paramref name="userId"/>, with a token as the gateway signs it.</summary>
    public static void ActAs(HttpClient client, string userId, string roles = "user") =>
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", IdentityToken(userId, userId, roles.Split(',')));

    /// <summary>An identity token as the gateway signs it (or, with another key or audience, as an impostor would).</summary>
    public static string IdentityToken(string userId, string name, string[] roles, string key = EndToEnd.InProcessSystem.IdentityKey, string audience = "movieservice", DateTime? expires = null)
    {
        var now = DateTime.UtcNow;
        return new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Issuer = "moviedb-gateway",
            Audience = audience,
            IssuedAt = now.AddSeconds(-1),
            NotBefore = now.AddSeconds(-1),
            Expires = expires ?? now.AddMinutes(2),
            SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(
                new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(key)),
                Microsoft.IdentityModel.Tokens.SecurityAlgorithms.HmacSha256),
            Claims = new Dictionary<string, object> { ["sub"] = userId, ["unique_name"] = name, ["role"] = roles },
        });
    }

    public HttpClient AdminClient() => ClientFor($"admin-{Guid.NewGuid():N}", "admin", "admin,user");

    public HttpClient AnonymousClient() => Factory.CreateClient();

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        await _virtualHost!.DisposeAsync();
        await _database!.DisposeAsync();
    }
}

/// <summary>A movie as the API returns it (the tests' own copy of the JSON shape).</summary>
public sealed record MovieJson(
    string Id,
    string Title,
    int ReleaseYear,
    string[] Genres,
    int? RuntimeMinutes,
    string? Synopsis,
    string OwnerId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public sealed record MoviePageJson(MovieJson[] Items, int? Page, int PageSize, long? TotalCount, string? Next = null);

public static class MovieHttp
{
    public static object NewMovie(string title = "Stalker", int year = 1979, string[]? genres = null, int? runtime = 162, string? synopsis = "A guide leads two men into the Zone.") =>
        new { title, releaseYear = year, genres = genres ?? ["Drama", "Science Fiction"], runtimeMinutes = runtime, synopsis };

    public static async Task<(MovieJson Movie, HttpResponseMessage Response)> CreateAsync(HttpClient client, object? body = null, string path = "/movies")
    {
        var response = await client.PostAsJsonAsync(path, body ?? NewMovie(), TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        var movie = await response.Content.ReadFromJsonAsync<MovieJson>(TestContext.Current.CancellationToken);
        return (movie!, response);
    }
}

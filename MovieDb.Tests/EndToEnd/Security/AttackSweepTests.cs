using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Movies;

namespace MovieDb.Tests.EndToEnd.Security;

/// <summary>
/// Attacks through the gateway on real processes (real Kestrel limits): each gets its exact status,
/// and afterwards no data has changed — the victim's movie and account, the number of movies and
/// of accounts are what they were.
/// </summary>
public sealed class AttackSweepTests(AttackSweepTests.System system) : IClassFixture<AttackSweepTests.System>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public sealed class System(TestServers servers) : ProcessSystem(servers)
    {
        public SignedInUser Victim { get; private set; } = null!;

        public SignedInUser Attacker { get; private set; } = null!;

        public MovieJson VictimMovie { get; private set; } = null!;

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            Victim = await NewUserAsync("victim");
            Attacker = await NewUserAsync("attacker");
            using var victim = Victim.CreateClient();
            (VictimMovie, _) = await MovieHttp.CreateAsync(victim, MovieHttp.NewMovie("The victim's film"), "/api/movies");
        }
    }

    private sealed record Snapshot(string VictimMovie, string VictimAccount, long Movies, long Accounts);

    private async Task<Snapshot> SnapshotAsync()
    {
        using var victim = system.Victim.CreateClient();
        var admin = await system.SignInAsAdminAsync();
        using var adminClient = admin.CreateClient();
        var users = await adminClient.GetFromJsonAsync<UserPageJson>("/api/users?pageSize=1", Ct);
        return new Snapshot(
            await victim.GetStringAsync($"/api/movies/{system.VictimMovie.Id}", Ct),
            await victim.GetStringAsync("/api/users/me", Ct),
            await system.Database.ScalarAsync<long>("SELECT COUNT(*) FROM movies"),
            users!.TotalCount);
    }

    /// <summary>Runs the attack, checks its status, and checks that nothing changed.</summary>
    private async Task AttackAsync(string description, HttpStatusCode expected, Func<Task<HttpResponseMessage>> attack, bool problemDetails = true)
    {
        var before = await SnapshotAsync();
        using var response = await attack();
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"{description}: expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        if (problemDetails)
        {
            await ProblemAssert.IsProblemAsync(response, expected);
        }

        Assert.Equal(before, await SnapshotAsync());
    }

    private HttpClient Attacker() => system.Attacker.CreateClient();

    private HttpClient WithToken(string token)
    {
        var client = system.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    [Fact]
    public async Task Forged_and_broken_tokens_are_refused()
    {
        var victim = system.Victim;
        var cases = new (string, string)[]
        {
            ("alg none", TestTokens.AlgNone(victim.Tokens.AccessToken)),
            ("tampered payload", TestTokens.Tampered(victim.Tokens.AccessToken)),
            ("RS256 with the attacker's key", TestTokens.SignedWithRsa(victim.Id)),
            ("wrong key", TestTokens.Create(victim.Id, key: "attacker-key-attacker-key-attacker-key-attacker-key")),
            ("wrong issuer", TestTokens.Create(victim.Id, ProcessSystem.SigningKey, issuer: "evil")),
            ("wrong audience", TestTokens.Create(victim.Id, ProcessSystem.SigningKey, audience: "other-api")),
            ("expired", TestTokens.Create(victim.Id, ProcessSystem.SigningKey, expires: DateTime.UtcNow.AddMinutes(-5), notBefore: DateTime.UtcNow.AddMinutes(-30))),
            ("not valid yet", TestTokens.Create(victim.Id, ProcessSystem.SigningKey, notBefore: DateTime.UtcNow.AddMinutes(10), expires: DateTime.UtcNow.AddMinutes(30))),
        };

        foreach (var (description, token) in cases)
        {
            using var client = WithToken(token);
            await AttackAsync($"{description}: delete the movie", HttpStatusCode.Unauthorized, () => client.DeleteAsync($"/api/movies/{system.VictimMovie.Id}", Ct));
            await AttackAsync($"{description}: change the account", HttpStatusCode.Unauthorized, () => client.PutAsJsonAsync($"/api/users/{victim.Id}", new { email = "owned@example.test" }, Ct));
        }
    }

    [Fact]
    public async Task Identity_headers_from_the_client_are_ignored()
    {
        using var attacker = Attacker();
        attacker.DefaultRequestHeaders.Add("X-User-Id", system.Victim.Id);
        attacker.DefaultRequestHeaders.Add("X-User-Roles", "admin");
        attacker.DefaultRequestHeaders.Add("X-User-Name", "admin");

        await AttackAsync("read as the victim", HttpStatusCode.NotFound, () => attacker.GetAsync($"/api/movies/{system.VictimMovie.Id}", Ct));
        await AttackAsync("delete as the victim", HttpStatusCode.NotFound, () => attacker.DeleteAsync($"/api/movies/{system.VictimMovie.Id}", Ct));
        await AttackAsync("list everyone's as admin", HttpStatusCode.Forbidden, () => attacker.GetAsync("/api/movies?owner=all", Ct));

        using var anonymous = system.CreateClient();
        anonymous.DefaultRequestHeaders.Add("X-User-Id", system.Victim.Id);
        await AttackAsync("anonymous with identity headers", HttpStatusCode.Unauthorized, () => anonymous.DeleteAsync($"/api/movies/{system.VictimMovie.Id}", Ct));
    }

    [Fact]
    public async Task Another_users_movie_and_account_cannot_be_reached_on_any_route()
    {
        using var attacker = Attacker();
        var movie = $"/api/movies/{system.VictimMovie.Id}";
        var account = $"/api/users/{system.Victim.Id}";
        var put = new HttpRequestMessage(HttpMethod.Put, movie) { Content = JsonContent.Create(MovieHttp.NewMovie("Defaced")) };
        put.Headers.TryAddWithoutValidation("If-Match", "*");

        await AttackAsync("GET the movie", HttpStatusCode.NotFound, () => attacker.GetAsync(movie, Ct));
        await AttackAsync("PUT the movie", HttpStatusCode.NotFound, () => attacker.SendAsync(put, Ct));
        await AttackAsync("DELETE the movie", HttpStatusCode.NotFound, () => attacker.DeleteAsync(movie, Ct));
        await AttackAsync("list the victim's movies", HttpStatusCode.Forbidden, () => attacker.GetAsync($"/api/movies?owner={system.Victim.Id}", Ct));
        await AttackAsync("GET the account", HttpStatusCode.Forbidden, () => attacker.GetAsync(account, Ct));
        await AttackAsync("PUT the account", HttpStatusCode.Forbidden, () => attacker.PutAsJsonAsync(account, new { email = "owned@example.test" }, Ct));
        await AttackAsync("DELETE the account", HttpStatusCode.Forbidden, () => attacker.DeleteAsync(account, Ct));
        await AttackAsync("list all accounts", HttpStatusCode.Forbidden, () => attacker.GetAsync("/api/users", Ct));
    }

    [Fact]
    public async Task Owner_ids_roles_and_ids_in_bodies_are_ignored()
    {
        using var attacker = Attacker();
        var before = await SnapshotAsync();

        var (created, _) = await MovieHttp.CreateAsync(attacker, new { id = system.VictimMovie.Id, ownerId = system.Victim.Id, title = "Planted", releaseYear = 2000 }, "/api/movies");
        Assert.NotEqual(system.VictimMovie.Id, created.Id);
        Assert.Equal(system.Attacker.Id, created.OwnerId);

        var put = new HttpRequestMessage(HttpMethod.Put, $"/api/movies/{created.Id}") { Content = JsonContent.Create(new { ownerId = system.Victim.Id, title = "Moved", releaseYear = 2000 }) };
        put.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
        using var moved = await attacker.SendAsync(put, Ct);
        Assert.Equal(system.Attacker.Id, (await moved.Content.ReadFromJsonAsync<MovieJson>(Ct))!.OwnerId);
        Assert.Equal(HttpStatusCode.NoContent, (await attacker.DeleteAsync($"/api/movies/{created.Id}", Ct)).StatusCode);

        using var anonymous = system.CreateClient();
        var name = $"sneaky{Guid.NewGuid():N}"[..20];
        using var register = await anonymous.PostAsJsonAsync("/api/auth/register", new { userName = name, email = $"{name}@example.test", password = "s3cret-passw0rd", roles = new[] { "admin" }, id = system.Victim.Id, isBootstrapAdmin = true }, Ct);
        var sneaky = await register.Content.ReadFromJsonAsync<UserJson>(Ct);
        Assert.Equal(["user"], sneaky!.Roles);
        Assert.NotEqual(system.Victim.Id, sneaky.Id);
        await AttackAsync("promote yourself", HttpStatusCode.Forbidden, () => attacker.PutAsJsonAsync($"/api/users/{system.Attacker.Id}", new { roles = new[] { "admin" } }, Ct));

        var after = await SnapshotAsync();
        Assert.Equal(before with { Accounts = before.Accounts + 1 }, after);
    }

    [Fact]
    public async Task Oversized_and_malformed_requests_are_refused_before_anything_happens()
    {
        using var attacker = Attacker();

        using var hugeHeader = new HttpRequestMessage(HttpMethod.Get, "/api/movies");
        hugeHeader.Headers.TryAddWithoutValidation("X-Padding", new string('x', 64 * 1024));
        await AttackAsync("a 64 KB header", HttpStatusCode.RequestHeaderFieldsTooLarge, () => attacker.SendAsync(hugeHeader, Ct), problemDetails: false);
        await AttackAsync("a 20 KB URL", HttpStatusCode.RequestUriTooLong, () => attacker.GetAsync("/api/movies?search=" + new string('s', 20_000), Ct), problemDetails: false);
        await AttackAsync("a 200 KB movie", HttpStatusCode.RequestEntityTooLarge, () => attacker.PostAsJsonAsync("/api/movies", MovieHttp.NewMovie(new string('x', 200_000)), Ct));
        await AttackAsync("JSON nested 10,000 deep", HttpStatusCode.BadRequest, () => attacker.PostAsync("/api/movies", new StringContent(new string('[', 10_000) + new string(']', 10_000), Encoding.UTF8, "application/json"), Ct));
        var invalidUtf8 = new ByteArrayContent([.. "{\"title\":\""u8, 0xC3, 0x28, .. "\",\"releaseYear\":2000}"u8]) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
        await AttackAsync("invalid UTF-8", HttpStatusCode.BadRequest, () => attacker.PostAsync("/api/movies", invalidUtf8, Ct));
        await AttackAsync("a 1 MB password", HttpStatusCode.RequestEntityTooLarge, () => attacker.PostAsJsonAsync("/api/auth/login", new { userName = system.Victim.UserName, password = new string('p', 1_000_000) }, Ct));
    }

    [Fact]
    public async Task Path_traversal_in_the_proxied_route_reaches_nothing_else()
    {
        using var attacker = Attacker();
        foreach (var path in new[]
        {
            "/api/movies/..%2F..%2Fhealth",
            "/api/movies/%2e%2e%2f%2e%2e%2fmovies%3Fowner%3Dall",
            "/api/movies/..%5C..%5Chealth",
            $"/api/movies/{system.VictimMovie.Id}%2F..%2F..",
        })
        {
            await AttackAsync($"GET {path}", HttpStatusCode.NotFound, () => attacker.GetAsync(path, Ct));
            await AttackAsync($"DELETE {path}", HttpStatusCode.NotFound, () => attacker.DeleteAsync(path, Ct));
        }

        // A NUL in the path is refused by Kestrel itself, before the application sees the request.
        await AttackAsync("GET /api/movies/%00", HttpStatusCode.BadRequest, () => attacker.GetAsync("/api/movies/%00", Ct), problemDetails: false);
    }
}

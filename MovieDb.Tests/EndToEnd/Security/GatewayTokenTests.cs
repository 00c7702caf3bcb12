using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.EndToEnd.Security;

/// <summary>Access tokens that must not work, and refresh-token theft.</summary>
public sealed class GatewayTokenTests(GatewayTokenTests.System system) : IClassFixture<GatewayTokenTests.System>
{
    public sealed class System(TestServers servers) : InProcessSystem(servers);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<HttpStatusCode> CallWithAsync(string token)
    {
        using var client = system.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var movies = await client.GetAsync("/api/movies", Ct);
        using var me = await client.GetAsync("/api/users/me", Ct);
        Assert.Equal(movies.StatusCode, me.StatusCode);
        if (movies.StatusCode == HttpStatusCode.Unauthorized)
        {
            await ProblemAssert.IsProblemAsync(movies, HttpStatusCode.Unauthorized);
        }

        return movies.StatusCode;
    }

    [Fact]
    public async Task A_token_we_issued_works_and_so_does_one_forged_with_our_key_proving_the_key_is_the_only_secret()
    {
        var user = await system.NewUserAsync();

        Assert.Equal(HttpStatusCode.OK, await CallWithAsync(user.Tokens.AccessToken));
        Assert.Equal(HttpStatusCode.OK, await CallWithAsync(TestTokens.Create(user.Id, stamp: TestTokens.StampOf(user.Tokens.AccessToken))));

        // With our key but without the account's current security stamp: no good.
        Assert.Equal(HttpStatusCode.Unauthorized, await CallWithAsync(TestTokens.Create(user.Id)));
    }

    [Fact]
    public async Task Expired_not_yet_valid_wrongly_signed_or_addressed_tokens_are_401()
    {
        var user = await system.NewUserAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, await CallWithAsync(TestTokens.Create(user.Id, expires: DateTime.UtcNow.AddMinutes(-2), notBefore: DateTime.UtcNow.AddMinutes(-20))));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallWithAsync(TestTokens.Create(user.Id, notBefore: DateTime.UtcNow.AddMinutes(5), expires: DateTime.UtcNow.AddMinutes(20))));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallWithAsync(TestTokens.Create(user.Id, key: "another-key-of-enough-length-0123456789abcdefghijklmnop")));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallWithAsync(TestTokens.Create(user.Id, audience: "someone-else")));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallWithAsync(TestTokens.Create(user.Id, issuer: "evil")));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallWithAsync("not-a-jwt"));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallWithAsync(string.Empty.PadLeft(5000, 'a')));
    }

    [Fact]
    public async Task Alg_none_and_a_tampered_payload_are_401()
    {
        var user = await system.NewUserAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await CallWithAsync(TestTokens.AlgNone(user.Tokens.AccessToken)));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallWithAsync(TestTokens.Tampered(user.Tokens.AccessToken)));
    }

    [Fact]
    public async Task A_token_signed_with_RS256_is_401_no_algorithm_confusion()
    {
        var user = await system.NewUserAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await CallWithAsync(TestTokens.SignedWithRsa(user.Id)));
    }

    [Fact]
    public async Task A_stolen_refresh_token_used_after_the_owner_rotated_it_revokes_the_session()
    {
        var user = await system.NewUserAsync();
        using var client = system.CreateClient();
        var stolen = user.Tokens.RefreshToken;

        using var ownerRefresh = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = stolen }, Ct);
        Assert.Equal(HttpStatusCode.OK, ownerRefresh.StatusCode);
        var ownerTokens = await ownerRefresh.Content.ReadFromJsonAsync<TokenPairJson>(Ct);

        using var thiefRefresh = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = stolen }, Ct);
        await ProblemAssert.IsProblemAsync(thiefRefresh, HttpStatusCode.Unauthorized);

        // The reuse revoked the whole family: the owner's current token is dead too.
        using var ownerAgain = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = ownerTokens!.RefreshToken }, Ct);
        await ProblemAssert.IsProblemAsync(ownerAgain, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_token_of_a_deleted_user_stops_working_at_once()
    {
        var doomed = await system.NewUserAsync("doomed");
        var admin = await system.SignInAsAdminAsync();
        using var adminClient = admin.CreateClient();
        Assert.Equal(HttpStatusCode.OK, await CallWithAsync(doomed.Tokens.AccessToken));
        using (var doomedClient = doomed.CreateClient())
        {
            await Integration.Movies.MovieHttp.CreateAsync(doomedClient, path: "/api/movies");
        }

        using var delete = await adminClient.DeleteAsync($"/api/users/{doomed.Id}", Ct);

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await CallWithAsync(doomed.Tokens.AccessToken));
        using var refresh = await system.CreateClient().PostAsJsonAsync("/api/auth/refresh", new { refreshToken = doomed.Tokens.RefreshToken }, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);

        // The movie service heard user.deleted and removed the movies.
        await Wait.UntilAsync(async () => await system.Database.ScalarAsync<long>("SELECT COUNT(*) FROM movies WHERE OwnerId = @id", ("@id", doomed.Id)) == 0, "the deleted user's movies are gone");
    }
}

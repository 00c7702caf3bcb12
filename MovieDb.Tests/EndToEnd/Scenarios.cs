using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Movies;

namespace MovieDb.Tests.EndToEnd;

/// <summary>
/// The end-to-end scenarios, written once against the gateway's public HTTP API. Each launcher's
/// test class runs them against its own running system.
/// </summary>
public static class Scenarios
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>register → login → create, list, update, delete movies → refresh → logout → the old refresh token is rejected.</summary>
    public static async Task UserJourneyAsync(MovieDbSystem system)
    {
        var name = $"journey{Guid.NewGuid():N}"[..20];
        using var anonymous = system.CreateClient();

        using var register = await anonymous.PostAsJsonAsync("/api/auth/register", new { userName = name, email = $"{name}@example.test", password = "s3cret-passw0rd" }, Ct);
        Assert.Equal(HttpStatusCode.Created, register.StatusCode);
        var user = await register.Content.ReadFromJsonAsync<UserJson>(Ct);
        Assert.Equal($"/api/users/{user!.Id}", register.Headers.Location?.OriginalString);
        Assert.Equal(["user"], user.Roles);

        if (system.Mailbox is not null)
        {
            // The real flow: no sign-in until the link in the mail is followed.
            using var early = await anonymous.PostAsJsonAsync("/api/auth/login", new { userName = name, password = "s3cret-passw0rd" }, Ct);
            await ProblemAssert.IsProblemAsync(early, HttpStatusCode.Forbidden);
            await system.ActivateIfRequiredAsync(user.Email);
        }

        using var login = await anonymous.PostAsJsonAsync("/api/auth/login", new { userName = name, password = "s3cret-passw0rd" }, Ct);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Equal("no-store", login.Headers.CacheControl?.ToString());
        var tokens = (await login.Content.ReadFromJsonAsync<TokenPairJson>(Ct))!;
        Assert.Equal("Bearer", tokens.TokenType);
        Assert.Equal(900, tokens.ExpiresIn);

        using var client = system.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        var me = await client.GetFromJsonAsync<UserJson>("/api/users/me", Ct);
        Assert.Equal(user.Id, me!.Id);

        using var created = await client.PostAsJsonAsync("/api/movies", MovieHttp.NewMovie("Solaris", 1972, ["Science Fiction"]), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var movie = (await created.Content.ReadFromJsonAsync<MovieJson>(Ct))!;
        Assert.Equal($"/api/movies/{movie.Id}", created.Headers.Location?.OriginalString);
        Assert.Equal(user.Id, movie.OwnerId);

        var list = await client.GetFromJsonAsync<MoviePageJson>("/api/movies?search=sol", Ct);
        Assert.Equal([movie.Id], list!.Items.Select(m => m.Id));

        // Paging by cursor through the gateway: the first page's next leads to the second, the last.
        using var second = await client.PostAsJsonAsync("/api/movies", MovieHttp.NewMovie("Stalker", 1979), Ct);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        var firstPage = (await client.GetFromJsonAsync<MoviePageJson>("/api/movies?pageSize=1", Ct))!;
        var nextPage = (await client.GetFromJsonAsync<MoviePageJson>($"/api/movies?pageSize=1&after={firstPage.Next}", Ct))!;
        Assert.Equal(["Solaris"], firstPage.Items.Select(m => m.Title));
        Assert.Equal(2, firstPage.TotalCount);
        Assert.Equal(["Stalker"], nextPage.Items.Select(m => m.Title));
        Assert.Equal((null, null), (nextPage.TotalCount, nextPage.Next));
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(second.Headers.Location, Ct)).StatusCode);

        using var get = await client.GetAsync(created.Headers.Location, Ct);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        var update = new HttpRequestMessage(HttpMethod.Put, $"/api/movies/{movie.Id}") { Content = JsonContent.Create(MovieHttp.NewMovie("Solaris (1972)", 1972)) };
        update.Headers.IfMatch.Add(get.Headers.ETag!);
        using var updated = await client.SendAsync(update, Ct);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal("\"2\"", updated.Headers.ETag?.Tag);
        Assert.Equal("Solaris (1972)", (await updated.Content.ReadFromJsonAsync<MovieJson>(Ct))!.Title);

        using var deleted = await client.DeleteAsync($"/api/movies/{movie.Id}", Ct);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/movies/{movie.Id}", Ct)).StatusCode);

        using var refresh = await anonymous.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = tokens.RefreshToken }, Ct);
        Assert.Equal(HttpStatusCode.OK, refresh.StatusCode);
        var rotated = (await refresh.Content.ReadFromJsonAsync<TokenPairJson>(Ct))!;
        Assert.NotEqual(tokens.RefreshToken, rotated.RefreshToken);

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", rotated.AccessToken);
        using var logout = await client.PostAsJsonAsync("/api/auth/logout", new { refreshToken = rotated.RefreshToken }, Ct);
        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);

        using var afterLogout = await anonymous.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = rotated.RefreshToken }, Ct);
        await ProblemAssert.IsProblemAsync(afterLogout, HttpStatusCode.Unauthorized);
        using var oldToken = await anonymous.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = tokens.RefreshToken }, Ct);
        await ProblemAssert.IsProblemAsync(oldToken, HttpStatusCode.Unauthorized);
    }

    /// <summary>Two users each see only their own movies through the gateway; an admin sees all.</summary>
    public static async Task UsersSeeOnlyTheirOwnMoviesAsync(MovieDbSystem system)
    {
        var alice = await system.NewUserAsync("alice");
        var bob = await system.NewUserAsync("bob");
        using var aliceClient = alice.CreateClient();
        using var bobClient = bob.CreateClient();

        var (aliceMovie, _) = await MovieHttp.CreateAsync(aliceClient, MovieHttp.NewMovie("Alice's film"), "/api/movies");
        var (bobMovie, _) = await MovieHttp.CreateAsync(bobClient, MovieHttp.NewMovie("Bob's film"), "/api/movies");

        Assert.Equal([aliceMovie.Id], (await aliceClient.GetFromJsonAsync<MoviePageJson>("/api/movies", Ct))!.Items.Select(m => m.Id));
        Assert.Equal([bobMovie.Id], (await bobClient.GetFromJsonAsync<MoviePageJson>("/api/movies", Ct))!.Items.Select(m => m.Id));
        Assert.Equal(HttpStatusCode.NotFound, (await bobClient.GetAsync($"/api/movies/{aliceMovie.Id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bobClient.DeleteAsync($"/api/movies/{aliceMovie.Id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await bobClient.GetAsync($"/api/movies?owner={alice.Id}", Ct)).StatusCode);

        var admin = await system.SignInAsAdminAsync();
        using var adminClient = admin.CreateClient();
        var all = await adminClient.GetFromJsonAsync<MoviePageJson>("/api/movies?owner=all&pageSize=100&sort=-created", Ct);
        Assert.Contains(all!.Items, m => m.Id == aliceMovie.Id);
        Assert.Contains(all.Items, m => m.Id == bobMovie.Id);
        Assert.Equal(HttpStatusCode.OK, (await adminClient.GetAsync($"/api/movies/{aliceMovie.Id}", Ct)).StatusCode);
        var users = await adminClient.GetFromJsonAsync<UserPageJson>("/api/users?pageSize=100", Ct);
        Assert.Contains(users!.Items, u => u.Id == alice.Id);
    }

    /// <summary>
    /// An admin deletes an account: it can no longer sign in, and its movies go too (the user service's
    /// user.deleted event, consumed by the movie service), as an admin listing that owner sees.
    /// </summary>
    public static async Task AnAdminDeletesAUserAndTheirMoviesGoAsync(MovieDbSystem system)
    {
        var leaver = await system.NewUserAsync("leaver");
        using (var leaverClient = leaver.CreateClient())
        {
            await MovieHttp.CreateAsync(leaverClient, MovieHttp.NewMovie("Left behind 1"), "/api/movies");
            await MovieHttp.CreateAsync(leaverClient, MovieHttp.NewMovie("Left behind 2"), "/api/movies");
        }

        var admin = await system.SignInAsAdminAsync();
        using var adminClient = admin.CreateClient();
        Assert.Equal(2, (await adminClient.GetFromJsonAsync<MoviePageJson>($"/api/movies?owner={leaver.Id}", Ct))!.TotalCount);
        Assert.Equal(HttpStatusCode.NoContent, (await adminClient.DeleteAsync($"/api/users/{leaver.Id}", Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await adminClient.GetAsync($"/api/users/{leaver.Id}", Ct)).StatusCode);
        using var anonymous = system.CreateClient();
        using var signIn = await anonymous.PostAsJsonAsync("/api/auth/login", new { userName = leaver.UserName, password = leaver.Password }, Ct);
        await ProblemAssert.IsProblemAsync(signIn, HttpStatusCode.Unauthorized);
        await Wait.UntilAsync(
            async () => (await adminClient.GetFromJsonAsync<MoviePageJson>($"/api/movies?owner={leaver.Id}", Ct))!.TotalCount == 0,
            "the deleted user's movies are gone");
    }

    /// <summary>Identity headers sent by a client are thrown away: they gain nothing.</summary>
    public static async Task SpoofedIdentityHeadersGainNothingAsync(MovieDbSystem system)
    {
        var victim = await system.NewUserAsync("victim");
        var mallory = await system.NewUserAsync("mallory");
        using var victimClient = victim.CreateClient();
        var (victimMovie, _) = await MovieHttp.CreateAsync(victimClient, MovieHttp.NewMovie("Private"), "/api/movies");

        using var spoofing = mallory.CreateClient();
        spoofing.DefaultRequestHeaders.Add("X-User-Id", victim.Id);
        spoofing.DefaultRequestHeaders.Add("X-User-Roles", "admin");
        spoofing.DefaultRequestHeaders.Add("x-user-name", "admin");

        Assert.Equal(HttpStatusCode.NotFound, (await spoofing.GetAsync($"/api/movies/{victimMovie.Id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await spoofing.GetAsync("/api/movies?owner=all", Ct)).StatusCode);
        var (created, _) = await MovieHttp.CreateAsync(spoofing, MovieHttp.NewMovie("Mine"), "/api/movies");
        Assert.Equal(mallory.Id, created.OwnerId);
        Assert.Equal(HttpStatusCode.Forbidden, (await spoofing.GetAsync("/api/users", Ct)).StatusCode);

        using var anonymous = system.CreateClient();
        anonymous.DefaultRequestHeaders.Add("X-User-Id", victim.Id);
        await ProblemAssert.IsProblemAsync(await anonymous.GetAsync("/api/movies", Ct), HttpStatusCode.Unauthorized);
    }
}

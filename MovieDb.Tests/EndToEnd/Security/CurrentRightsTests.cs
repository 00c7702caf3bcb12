using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.EndToEnd.Security;

/// <summary>
/// Authorization on the account's rights now, not on what a token said when it was issued — on real
/// processes with two gateway instances: a change made through one is honoured by the other within
/// seconds. Admins are protected from each other, names cannot imitate others, and the movie service
/// believes no identity the gateway did not sign.
/// </summary>
public sealed class CurrentRightsTests(CurrentRightsTests.System system) : IClassFixture<CurrentRightsTests.System>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // Broadcasts arrive within moments; this bound is far below the 30 s the fall-back refresh allows.
    private static readonly TimeSpan WithinSeconds = TimeSpan.FromSeconds(10);

    public sealed class System(TestServers servers) : ProcessSystem(servers)
    {
        public ServiceProcess OtherGateway { get; private set; } = null!;

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            OtherGateway = await StartAnotherGatewayAsync();
        }

        public HttpClient OtherGatewayClient(SignedInUser user)
        {
            var client = new HttpClient { BaseAddress = OtherGateway.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", user.Tokens.AccessToken);
            return client;
        }
    }

    [Fact]
    public async Task A_demoted_admin_loses_admin_power_within_seconds_on_every_gateway_and_its_sessions_end()
    {
        var admin = await system.SignInAsAdminAsync();
        using var adminClient = admin.CreateClient();
        var carol = await system.NewUserAsync("carol");
        var dave = await system.NewUserAsync("dave");
        Assert.Equal(HttpStatusCode.OK, (await adminClient.PutAsJsonAsync($"/api/users/{carol.Id}", new { roles = new[] { "admin", "user" } }, Ct)).StatusCode);
        var carolAdmin = await system.SignInAsync(carol.UserName, carol.Password, carol.Id);
        using var here = carolAdmin.CreateClient();
        using var there = system.OtherGatewayClient(carolAdmin);
        Assert.Equal(HttpStatusCode.OK, (await here.GetAsync("/api/users", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await there.GetAsync("/api/users", Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await adminClient.PutAsJsonAsync($"/api/users/{carol.Id}", new { roles = new[] { "user" } }, Ct)).StatusCode);

        await Wait.UntilAsync(async () => (await there.GetAsync("/api/users", Ct)).StatusCode == HttpStatusCode.Unauthorized, "the other gateway refuses the demoted admin's token", WithinSeconds);
        await ProblemAssert.IsProblemAsync(await here.GetAsync("/api/users", Ct), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(await here.PutAsJsonAsync($"/api/users/{carol.Id}", new { roles = new[] { "admin", "user" } }, Ct), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(await there.DeleteAsync($"/api/users/{dave.Id}", Ct), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(await system.CreateClient().PostAsJsonAsync("/api/auth/refresh", new { refreshToken = carolAdmin.Tokens.RefreshToken }, Ct), HttpStatusCode.Unauthorized);

        // Signed in again: a user, and nothing more.
        var carolNow = await system.SignInAsync(carol.UserName, carol.Password, carol.Id);
        using var now = carolNow.CreateClient();
        await ProblemAssert.IsProblemAsync(await now.GetAsync("/api/users", Ct), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await now.GetAsync("/api/movies?owner=all", Ct), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await now.PutAsJsonAsync($"/api/users/{carol.Id}", new { roles = new[] { "admin", "user" } }, Ct), HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, (await adminClient.GetAsync($"/api/users/{dave.Id}", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_deleted_users_token_and_a_signed_out_everywhere_users_tokens_stop_working_on_every_gateway()
    {
        var admin = await system.SignInAsAdminAsync();
        using var adminClient = admin.CreateClient();
        var doomed = await system.NewUserAsync("doomed");
        var leaver = await system.NewUserAsync("leaver");
        using var doomedThere = system.OtherGatewayClient(doomed);
        using var leaverThere = system.OtherGatewayClient(leaver);
        Assert.Equal(HttpStatusCode.OK, (await doomedThere.GetAsync("/api/movies", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await leaverThere.GetAsync("/api/movies", Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await adminClient.DeleteAsync($"/api/users/{doomed.Id}", Ct)).StatusCode);
        using var leaverHere = leaver.CreateClient();
        Assert.Equal(HttpStatusCode.NoContent, (await leaverHere.DeleteAsync($"/api/users/{leaver.Id}/sessions", Ct)).StatusCode);

        await Wait.UntilAsync(async () => (await doomedThere.GetAsync("/api/movies", Ct)).StatusCode == HttpStatusCode.Unauthorized, "the deleted user's token dies everywhere", WithinSeconds);
        await Wait.UntilAsync(async () => (await leaverThere.GetAsync("/api/movies", Ct)).StatusCode == HttpStatusCode.Unauthorized, "the signed-out user's token dies everywhere", WithinSeconds);
        await ProblemAssert.IsProblemAsync(await leaverHere.GetAsync("/api/users/me", Ct), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task No_admin_can_take_over_another_and_the_bootstrap_admin_is_protected_from_everyone()
    {
        var admin = await system.SignInAsAdminAsync();
        using var adminClient = admin.CreateClient();
        var eve = await system.NewUserAsync("eve");
        var frank = await system.NewUserAsync("frank");
        Assert.Equal(HttpStatusCode.OK, (await adminClient.PutAsJsonAsync($"/api/users/{eve.Id}", new { roles = new[] { "admin", "user" } }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await adminClient.PutAsJsonAsync($"/api/users/{frank.Id}", new { roles = new[] { "admin", "user" } }, Ct)).StatusCode);
        var eveAdmin = await system.SignInAsync(eve.UserName, eve.Password, eve.Id);
        using var eveClient = eveAdmin.CreateClient();

        foreach (var target in new[] { admin.Id, frank.Id })
        {
            await ProblemAssert.IsProblemAsync(await eveClient.PutAsJsonAsync($"/api/users/{target}", new { password = "t4keover-passw0rd" }, Ct), HttpStatusCode.Forbidden);
            await ProblemAssert.IsProblemAsync(await eveClient.PutAsJsonAsync($"/api/users/{target}", new { email = $"{target}@evil.test" }, Ct), HttpStatusCode.Forbidden);
        }

        await ProblemAssert.IsProblemAsync(await eveClient.PutAsJsonAsync($"/api/users/{admin.Id}", new { roles = new[] { "user" } }, Ct), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await eveClient.DeleteAsync($"/api/users/{admin.Id}", Ct), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await eveClient.DeleteAsync($"/api/users/{admin.Id}/sessions", Ct), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await adminClient.PutAsJsonAsync($"/api/users/{admin.Id}", new { roles = new[] { "user" } }, Ct), HttpStatusCode.Forbidden);

        // The bootstrap admin is untouched: same password, same roles, its token still good.
        var me = await adminClient.GetFromJsonAsync<UserJson>("/api/users/me", Ct);
        Assert.Contains("admin", me!.Roles);
        await system.SignInAsync(MovieDbSystem.AdminUserName, MovieDbSystem.AdminPassword, admin.Id);
    }

    [Fact]
    public async Task An_admin_cannot_take_over_another_by_demoting_it_first()
    {
        var admin = await system.SignInAsAdminAsync();
        using var adminClient = admin.CreateClient();
        var mallory = await system.NewUserAsync("mallory");
        var trent = await system.NewUserAsync("trent");
        foreach (var id in new[] { mallory.Id, trent.Id })
        {
            Assert.Equal(HttpStatusCode.OK, (await adminClient.PutAsJsonAsync($"/api/users/{id}", new { roles = new[] { "admin", "user" } }, Ct)).StatusCode);
        }

        var malloryAdmin = await system.SignInAsync(mallory.UserName, mallory.Password, mallory.Id);
        using var malloryClient = malloryAdmin.CreateClient();

        // Demoting another admin is allowed; taking its sign-in over afterwards is not, for anyone.
        Assert.Equal(HttpStatusCode.OK, (await malloryClient.PutAsJsonAsync($"/api/users/{trent.Id}", new { roles = new[] { "user" } }, Ct)).StatusCode);
        foreach (var client in new[] { malloryClient, adminClient })
        {
            await ProblemAssert.IsProblemAsync(await client.PutAsJsonAsync($"/api/users/{trent.Id}", new { password = "t4keover-passw0rd" }, Ct), HttpStatusCode.Forbidden);
            await ProblemAssert.IsProblemAsync(await client.PutAsJsonAsync($"/api/users/{trent.Id}", new { email = "trent@evil.test" }, Ct), HttpStatusCode.Forbidden);
        }

        // Trent still signs in with his own password, and may change it himself.
        var trentNow = await system.SignInAsync(trent.UserName, trent.Password, trent.Id);
        using var trentClient = trentNow.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await trentClient.PutAsJsonAsync($"/api/users/{trent.Id}", new { currentPassword = trent.Password, password = "n3w-own-passw0rd" }, Ct)).StatusCode);
    }

    [Theory]
    [InlineData("\u0430dmin", HttpStatusCode.BadRequest)]
    [InlineData("admin\u034F", HttpStatusCode.BadRequest)]
    [InlineData("\uFF41\uFF44\uFF4D\uFF49\uFF4E", HttpStatusCode.BadRequest)]
    [InlineData("adm1n", HttpStatusCode.Conflict)]
    [InlineData("ADMIN", HttpStatusCode.Conflict)]
    public async Task Names_that_look_like_the_admin_are_refused(string userName, HttpStatusCode expected)
    {
        using var client = system.CreateClient();

        using var response = await client.PostAsJsonAsync("/api/auth/register", new { userName, email = $"{Guid.NewGuid():N}@example.test", password = "s3cret-passw0rd" }, Ct);

        await ProblemAssert.IsProblemAsync(response, expected);
    }

    [Fact]
    public async Task The_movie_service_refuses_identities_the_gateway_did_not_sign()
    {
        var victim = await system.NewUserAsync("victim");
        using var direct = new HttpClient { BaseAddress = system.MovieService.BaseAddress };

        using var headers = new HttpRequestMessage(HttpMethod.Get, "/movies?owner=all");
        headers.Headers.Add("X-User-Id", victim.Id);
        headers.Headers.Add("X-User-Name", "admin");
        headers.Headers.Add("X-User-Roles", "admin");
        using var accessToken = new HttpRequestMessage(HttpMethod.Get, "/movies");
        accessToken.Headers.Authorization = new AuthenticationHeaderValue("Bearer", victim.Tokens.AccessToken);

        await ProblemAssert.IsProblemAsync(await direct.SendAsync(headers, Ct), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(await direct.SendAsync(accessToken, Ct), HttpStatusCode.Unauthorized);
    }
}

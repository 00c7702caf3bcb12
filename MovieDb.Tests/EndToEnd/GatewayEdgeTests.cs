using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Movies;

namespace MovieDb.Tests.EndToEnd;

/// <summary>The gateway as the public edge: rate limits, headers, documentation, the users API's rules.</summary>
public sealed class GatewayEdgeTests(GatewayEdgeTests.System system, TestServers servers) : IClassFixture<GatewayEdgeTests.System>
{
    public sealed class System(TestServers servers) : InProcessSystem(servers);

    private sealed class TightLimits(TestServers servers) : InProcessSystem(servers)
    {
        protected override IDictionary<string, string?> GatewaySettings => new Dictionary<string, string?>
        {
            ["RateLimiting:SignIn:PermitLimit"] = "3",
            ["RateLimiting:SignIn:Window"] = "00:01:00",
            ["RateLimiting:Api:TokenLimit"] = "5",
            ["RateLimiting:Api:TokensPerSecond"] = "1",
            ["RateLimiting:PasswordResets:PermitLimit"] = "3",
            ["RateLimiting:PasswordResets:Window"] = "00:01:00",
        };
    }

    private sealed class TightAddressFloor(TestServers servers) : InProcessSystem(servers)
    {
        protected override IDictionary<string, string?> GatewaySettings => new Dictionary<string, string?>
        {
            ["RateLimiting:PerAddress:TokenLimit"] = "60",
            ["RateLimiting:PerAddress:TokensPerSecond"] = "1",
        };
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Logins_past_the_limit_get_429_with_retry_after_and_problem_details()
    {
        await using var limited = new TightLimits(servers);
        await limited.InitializeAsync();
        using var client = limited.CreateClient();

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? rejected = null;
        for (var i = 0; i < 5; i++)
        {
            var response = await client.PostAsJsonAsync("/api/auth/login", new { userName = "nobody", password = "wrong-password" }, Ct);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                rejected = response;
            }
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        await ProblemAssert.IsProblemAsync(rejected!, HttpStatusCode.TooManyRequests);
        Assert.InRange(rejected!.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task The_api_limit_is_per_user()
    {
        await using var limited = new TightLimits(servers);
        await limited.InitializeAsync();
        var greedy = await limited.SignInAsync(MovieDbSystem.AdminUserName, MovieDbSystem.AdminPassword, null);
        using var greedyClient = greedy.CreateClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            statuses.Add((await greedyClient.GetAsync("/api/movies", Ct)).StatusCode);
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.Equal(HttpStatusCode.OK, statuses[0]);
    }

    [Fact]
    public async Task A_proxied_request_takes_one_token_of_its_address_and_the_address_has_one_count_for_every_route()
    {
        await using var limited = new TightAddressFloor(servers);
        await limited.InitializeAsync();
        var user = await limited.SignInAsync(MovieDbSystem.AdminUserName, MovieDbSystem.AdminPassword, null);
        using var client = user.CreateClient();

        // 60 tokens, one a second: the sign-in took one or two, and the seconds this takes refill a few.
        // A proxied request that took its address's token twice (once in the api policy's call, once
        // more as a route of its own) would get about half as far.
        var allowed = 0;
        for (var i = 0; i < 100 && (await client.GetAsync("/api/movies", Ct)).StatusCode == HttpStatusCode.OK; i++)
        {
            allowed++;
        }

        Assert.InRange(allowed, 50, 70);

        // The address is out of tokens for a route under another policy too: one count, not one per kind
        // of route (a count of its own would let all five through; a token may refill meanwhile).
        using var anonymous = limited.CreateClient();
        var through = 0;
        for (var i = 0; i < 5; i++)
        {
            using var status = await anonymous.GetAsync($"/api/auth/registrations/{Guid.NewGuid()}", Ct);
            through += status.StatusCode == HttpStatusCode.TooManyRequests ? 0 : 1;
        }

        Assert.InRange(through, 0, 2);
    }

    [Fact]
    public async Task Password_reset_requests_past_the_per_address_limit_get_429_and_confirmations_are_counted_apart()
    {
        await using var limited = new TightLimits(servers);
        await limited.InitializeAsync();
        using var client = limited.CreateClient();

        // Each request costs the user service a look-up, and some a mail.
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? rejected = null;
        for (var i = 0; i < 5; i++)
        {
            var response = await client.PostAsJsonAsync("/api/auth/password-reset", new { userName = $"someone{i}" }, Ct);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                rejected = response;
            }
        }

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);

        // A confirmation from the same address is not held up by them: a person who asked twice can still use the link.
        using var confirm = await client.PostAsJsonAsync("/api/auth/password-reset/confirm", new { token = new string('t', 43), newPassword = "a-new-passw0rd" }, Ct);
        await ProblemAssert.IsProblemAsync(confirm, HttpStatusCode.BadRequest);
        await ProblemAssert.IsProblemAsync(rejected!, HttpStatusCode.TooManyRequests);
        Assert.NotNull(rejected!.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task A_password_reset_is_answered_before_the_user_service_sees_it_so_the_answer_cannot_tell_accounts_apart()
    {
        // Nobody reads the user service's queue: the gateway cannot learn whether an account exists,
        // and still answers both at once, alike.
        await system.StopUserServiceAsync();
        try
        {
            using var client = system.CreateClient();
            foreach (var body in new object[] { new { userName = MovieDbSystem.AdminUserName }, new { userName = "nobody-at-all" }, new { email = "admin@moviedb.local" }, new { email = "nobody@example.test" } })
            {
                using var response = await client.PostAsJsonAsync("/api/auth/password-reset", body, Ct);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                Assert.Empty(await response.Content.ReadAsByteArrayAsync(Ct));
            }
        }
        finally
        {
            await system.StartUserServiceAsync();
        }
    }

    [Fact]
    public async Task Every_answer_carries_the_security_headers_and_no_server_banner()
    {
        var user = await system.NewUserAsync();
        using var client = user.CreateClient();

        foreach (var path in new[] { "/api/movies", "/api/users/me", "/health", "/no-such-route" })
        {
            using var response = await client.GetAsync(path, Ct);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
            Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            Assert.False(response.Headers.Contains("Server"), $"{path} names its server");
        }
    }

    [Fact]
    public async Task Internal_routes_of_the_services_cannot_be_reached_through_the_gateway()
    {
        var user = await system.NewUserAsync();
        using var client = user.CreateClient();

        foreach (var path in new[] { "/movies", "/api/movies/..%2F..%2Fhealth", "/api/movies/%2e%2e/%2e%2e/movies", "/api/moviesx", "/users.requests" })
        {
            using var response = await client.GetAsync(path, Ct);
            Assert.True(response.StatusCode is HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task The_openapi_document_describes_auth_users_and_the_proxied_movie_routes_with_a_bearer_scheme()
    {
        using var client = system.CreateClient();

        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Ct);

        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/api/auth/register", "/api/auth/activate", "/api/auth/activation-email", "/api/auth/password-reset", "/api/auth/password-reset/confirm", "/api/auth/login", "/api/auth/refresh", "/api/auth/logout", "/api/users/me", "/api/users/{id}", "/api/movies", "/api/movies/{id}" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"missing {path}");
        }

        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer").GetProperty("scheme").GetString());
        Assert.True(paths.GetProperty("/api/movies/{id}").GetProperty("put").TryGetProperty("security", out _));
        Assert.Equal(0, paths.GetProperty("/api/auth/login").GetProperty("post").GetProperty("security").GetArrayLength());
    }

    [Fact]
    public async Task A_user_reads_and_changes_only_their_own_account_and_an_admin_manages_all()
    {
        var carol = await system.NewUserAsync("carol");
        var dave = await system.NewUserAsync("dave");
        using var carolClient = carol.CreateClient();
        var admin = await system.SignInAsAdminAsync();
        using var adminClient = admin.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await carolClient.GetAsync($"/api/users/{carol.Id}", Ct)).StatusCode);
        await ProblemAssert.IsProblemAsync(await carolClient.GetAsync($"/api/users/{dave.Id}", Ct), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await carolClient.GetAsync("/api/users", Ct), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await carolClient.PutAsJsonAsync($"/api/users/{dave.Id}", new { email = "x@example.test" }, Ct), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await carolClient.DeleteAsync($"/api/users/{dave.Id}", Ct), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await carolClient.PutAsJsonAsync($"/api/users/{carol.Id}", new { roles = new[] { "admin" } }, Ct), HttpStatusCode.Forbidden);

        using var changed = await carolClient.PutAsJsonAsync($"/api/users/{carol.Id}", new { email = $"new-{carol.UserName}@example.test", password = "an0ther-passw0rd", currentPassword = carol.Password }, Ct);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);

        // A new password ends the session it was changed from too.
        await ProblemAssert.IsProblemAsync(await carolClient.GetAsync("/api/users/me", Ct), HttpStatusCode.Unauthorized);
        var carolAgain = await system.SignInAsync(carol.UserName, "an0ther-passw0rd", carol.Id);
        using var carolAgainClient = carolAgain.CreateClient();

        var invalid = await ProblemAssert.IsProblemAsync(await carolAgainClient.PutAsJsonAsync($"/api/users/{carol.Id}", new { email = "not-an-email" }, Ct), HttpStatusCode.BadRequest);
        Assert.True(invalid.GetProperty("errors").TryGetProperty("email", out _));

        using var promote = await adminClient.PutAsJsonAsync($"/api/users/{dave.Id}", new { roles = new[] { "user", "admin" } }, Ct);
        Assert.Equal(["admin", "user"], (await promote.Content.ReadFromJsonAsync<UserJson>(Ct))!.Roles);
        var page = await adminClient.GetFromJsonAsync<UserPageJson>("/api/users?page=1&pageSize=2", Ct);
        Assert.Equal(2, page!.Items.Length);
        Assert.True(page.TotalCount >= 3);
        await ProblemAssert.IsProblemAsync(await adminClient.GetAsync("/api/users?pageSize=1000", Ct), HttpStatusCode.BadRequest);
        await ProblemAssert.IsProblemAsync(await adminClient.DeleteAsync($"/api/users/{admin.Id}", Ct), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await adminClient.GetAsync($"/api/users/{Guid.NewGuid()}", Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Registration_and_login_reveal_nothing_beyond_what_409_must_and_never_a_hash()
    {
        var existing = await system.NewUserAsync("known");
        using var client = system.CreateClient();

        using var unknownUser = await client.PostAsJsonAsync("/api/auth/login", new { userName = "no-such-user-here", password = "whatever-pass" }, Ct);
        using var wrongPassword = await client.PostAsJsonAsync("/api/auth/login", new { userName = existing.UserName, password = "whatever-pass" }, Ct);
        var first = await ProblemAssert.IsProblemAsync(unknownUser, HttpStatusCode.Unauthorized);
        var second = await ProblemAssert.IsProblemAsync(wrongPassword, HttpStatusCode.Unauthorized);
        Assert.Equal(first.GetProperty("title").GetString(), second.GetProperty("title").GetString());
        Assert.Equal(first.GetProperty("detail").GetString(), second.GetProperty("detail").GetString());

        using var takenName = await client.PostAsJsonAsync("/api/auth/register", new { userName = existing.UserName, email = "fresh@example.test", password = "s3cret-passw0rd" }, Ct);
        using var takenEmail = await client.PostAsJsonAsync("/api/auth/register", new { userName = "freshname", email = $"{existing.UserName}@example.test", password = "s3cret-passw0rd" }, Ct);
        var byName = await ProblemAssert.IsProblemAsync(takenName, HttpStatusCode.Conflict);
        var byEmail = await ProblemAssert.IsProblemAsync(takenEmail, HttpStatusCode.Conflict);
        Assert.Equal(byName.GetProperty("detail").GetString(), byEmail.GetProperty("detail").GetString());

        using var me = await existing.CreateClient().GetAsync("/api/users/me", Ct);
        var body = await me.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("hash", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("AQAAAA", body, StringComparison.Ordinal);
        Assert.DoesNotContain(existing.Tokens.RefreshToken, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_movie_created_through_the_gateway_is_addressed_by_its_public_location()
    {
        var user = await system.NewUserAsync();
        using var client = user.CreateClient();

        var (movie, response) = await MovieHttp.CreateAsync(client, MovieHttp.NewMovie("Located"), "/api/movies");

        Assert.Equal($"/api/movies/{movie.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(response.Headers.Location, Ct)).StatusCode);
    }
}

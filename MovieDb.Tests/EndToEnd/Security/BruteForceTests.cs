using System.Net;
using System.Net.Http.Json;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.EndToEnd.Security;

/// <summary>
/// Rate limits that stop attacks and spare real users, on real processes: password guessing meets the
/// per-address limit and, from any number of addresses, the per-account one; people sharing one
/// address refresh their sessions freely; forwarded addresses count only from trusted proxies.
/// </summary>
public sealed class BruteForceTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class System(TestServers servers, Dictionary<string, string?> settings) : ProcessSystem(servers)
    {
        protected override IDictionary<string, string?> Settings => settings;
    }

    private static async Task<System> StartAsync(TestServers servers, Dictionary<string, string?> settings)
    {
        // These tests are about the counts shared through Redis: a Redis call that runs past the 500 ms
        // default under the whole suite's load would send a gateway to its own counts for 5 s (as designed,
        // and tested by CacheOutageTests), and a guess counted there is not counted here.
        settings.TryAdd("Cache__OperationTimeout", "00:00:05");
        var system = new System(servers, settings);
        await system.InitializeAsync();
        return system;
    }

    private static Task<HttpResponseMessage> SignInAsync(HttpClient client, string userName, string password, string? forwardedFor = null, string? deviceToken = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = JsonContent.Create(new { userName, password }) };
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        if (deviceToken is not null)
        {
            request.Headers.Add("Device-Token", deviceToken);
        }

        return client.SendAsync(request, Ct);
    }

    [Fact]
    public async Task Guessing_passwords_from_one_address_is_stopped_after_the_limit_whatever_the_account()
    {
        await using var system = await StartAsync(servers, new() { ["RateLimiting__SignIn__PermitLimit"] = "5", ["RateLimiting__SignIn__Window"] = "00:01:00" });
        using var client = system.CreateClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var guess = await SignInAsync(client, MovieDbSystem.AdminUserName, $"guess-{i:D4}");
            statuses.Add(guess.StatusCode);
        }

        using var correct = await SignInAsync(client, MovieDbSystem.AdminUserName, MovieDbSystem.AdminPassword);
        using var otherAccount = await SignInAsync(client, "someone-else", "whatever-pass");

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        foreach (var refused in new[] { correct, otherAccount })
        {
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.TooManyRequests);
            Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        }

        // Registration has its own limit: the guessing did not use it up.
        using var register = await client.PostAsJsonAsync("/api/auth/register", new { userName = "newcomer", email = "newcomer@example.test", password = "s3cret-passw0rd" }, Ct);
        Assert.Equal(HttpStatusCode.Created, register.StatusCode);
    }

    [Fact]
    public async Task Many_people_behind_one_address_refresh_their_sessions_without_429()
    {
        await using var system = await StartAsync(servers, new()
        {
            ["RateLimiting__SignIn__PermitLimit"] = "30",
            ["RateLimiting__Registration__PermitLimit"] = "30",
        });

        // An office: 25 people, one address. Each signs in once and refreshes three times.
        var people = new List<SignedInUser>();
        for (var i = 0; i < 25; i++)
        {
            people.Add(await system.NewUserAsync($"office{i}"));
        }

        using var client = system.CreateClient();
        var statuses = new List<HttpStatusCode>();
        foreach (var person in people)
        {
            var refreshToken = person.Tokens.RefreshToken;
            for (var round = 0; round < 3; round++)
            {
                using var refreshed = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken }, Ct);
                statuses.Add(refreshed.StatusCode);
                refreshToken = (await refreshed.Content.ReadFromJsonAsync<TokenPairJson>(Ct))?.RefreshToken ?? refreshToken;
            }
        }

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    /// <summary>
    /// Behind a trusted proxy every guess can come from another address, so the per-address limit never
    /// bites: the per-account throttle does. The owner, from the address it signs in from, is not locked
    /// out; a stranger's address waits at most the longest delay.
    /// </summary>
    [Fact]
    public async Task Guessing_one_accounts_password_from_rotating_forwarded_addresses_is_slowed_down_but_its_owner_gets_in_on_every_gateway_and_after_a_restart()
    {
        await using var system = await StartAsync(servers, new()
        {
            ["ForwardedHeaders__KnownProxies__0"] = "127.0.0.1",
            ["RateLimiting__SignIn__PermitLimit"] = "5",
            ["RateLimiting__SignInFailures__FreeAttempts"] = "5",
        });
        var owner = await system.NewUserAsync("owner");
        using var client = system.CreateClient();
        string device;
        using (var usual = await SignInAsync(client, owner.UserName, owner.Password, forwardedFor: "198.51.100.7"))
        {
            Assert.Equal(HttpStatusCode.OK, usual.StatusCode);
            device = usual.Headers.GetValues("Device-Token").Single();
        }

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? throttled = null;
        for (var i = 0; i < 12; i++)
        {
            var guess = await SignInAsync(client, owner.UserName, $"guess-{i:D4}", forwardedFor: $"203.0.113.{i + 1}");
            statuses.Add(guess.StatusCode);
            if (guess.StatusCode == HttpStatusCode.TooManyRequests)
            {
                throttled?.Dispose();
                throttled = guess;
            }
            else
            {
                guess.Dispose();
            }
        }

        // Five wrong guesses are answered; then the account makes everyone else wait, whatever their address.
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), statuses.Take(5));
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses.Skip(5));
        await ProblemAssert.IsProblemAsync(throttled!, HttpStatusCode.TooManyRequests);
        Assert.InRange(throttled!.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        throttled.Dispose();

        // Whoever holds no device token of the account waits — the owner from the usual address too; the
        // owner's browser, which signed in before, does not, even from a new address. (Each check runs
        // while the guesser keeps the account blocked for several seconds: the first waits are short.)
        var guesses = 12;
        guesses = await KeepGuessingUntilBlockedAsync(client, owner.UserName, guesses);
        using (var stranger = await SignInAsync(client, owner.UserName, owner.Password, forwardedFor: "192.0.2.99"))
        using (var ownerWithoutToken = await SignInAsync(client, owner.UserName, owner.Password, forwardedFor: "198.51.100.7"))
        using (var ownerAgain = await SignInAsync(client, owner.UserName, owner.Password, forwardedFor: "192.0.2.200", deviceToken: device))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, stranger.StatusCode);
            Assert.Equal(HttpStatusCode.TooManyRequests, ownerWithoutToken.StatusCode);
            Assert.Equal(HttpStatusCode.OK, ownerAgain.StatusCode);
        }

        // The counts and the token's worth are the same on another gateway instance (a block set through
        // it holds on the first one too), and after a restart.
        var other = await system.StartAnotherGatewayAsync();
        using var otherClient = new HttpClient { BaseAddress = other.BaseAddress };
        guesses = await KeepGuessingUntilBlockedAsync(otherClient, owner.UserName, guesses);
        using (var strangerThere = await SignInAsync(otherClient, owner.UserName, owner.Password, forwardedFor: "192.0.2.98"))
        using (var strangerHere = await SignInAsync(client, owner.UserName, owner.Password, forwardedFor: "192.0.2.96"))
        using (var ownerThere = await SignInAsync(otherClient, owner.UserName, owner.Password, forwardedFor: "192.0.2.201", deviceToken: device))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, strangerThere.StatusCode);
            Assert.Equal(HttpStatusCode.TooManyRequests, strangerHere.StatusCode);
            Assert.Equal(HttpStatusCode.OK, ownerThere.StatusCode);
        }

        await system.RestartGatewayAsync();
        using var restarted = system.CreateClient();
        await KeepGuessingUntilBlockedAsync(restarted, owner.UserName, guesses);
        using (var strangerAfter = await SignInAsync(restarted, owner.UserName, owner.Password, forwardedFor: "192.0.2.97"))
        using (var ownerAfter = await SignInAsync(restarted, owner.UserName, owner.Password, forwardedFor: "192.0.2.202", deviceToken: device))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, strangerAfter.StatusCode);
            Assert.Equal(HttpStatusCode.OK, ownerAfter.StatusCode);
        }
    }

    [Fact]
    public async Task Guessing_the_current_password_through_an_account_change_is_throttled_like_sign_in_and_counts_against_it()
    {
        await using var system = await StartAsync(servers, new() { ["RateLimiting__SignInFailures__FreeAttempts"] = "5" });
        var owner = await system.NewUserAsync("changer");
        using var client = system.CreateClient();
        string device;
        using (var signIn = await SignInAsync(client, owner.UserName, owner.Password))
        {
            device = signIn.Headers.GetValues("Device-Token").Single();
        }

        // A stolen access token is no oracle: the current password is checked like a sign-in.
        using var thief = owner.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            using var guess = await thief.PutAsJsonAsync($"/api/users/{owner.Id}", new { email = $"{owner.UserName}@example.test", currentPassword = $"guess-{i:D4}" }, Ct);
            statuses.Add(guess.StatusCode);
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.BadRequest, 5), statuses.Take(5));
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses.Skip(5));

        // The same count as sign-in's; a "current password" with nothing to change tests nothing and
        // clears nothing; the owner's own client, with its device token, is not held up.
        await KeepGuessingUntilBlockedAsync(client, owner.UserName, 100);
        using (var cleared = await thief.PutAsJsonAsync($"/api/users/{owner.Id}", new { currentPassword = "anything" }, Ct))
        using (var stranger = await SignInAsync(client, owner.UserName, owner.Password))
        using (var ownerAgain = await SignInAsync(client, owner.UserName, owner.Password, deviceToken: device))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, stranger.StatusCode);
            Assert.Equal(HttpStatusCode.OK, ownerAgain.StatusCode);
        }

        using var change = new HttpRequestMessage(HttpMethod.Put, $"/api/users/{owner.Id}")
        {
            Content = JsonContent.Create(new { email = $"{owner.UserName}@example.test", currentPassword = owner.Password }),
            Headers = { { "Device-Token", device } },
        };
        using (var ownersChange = await owner.CreateClient().SendAsync(change, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, ownersChange.StatusCode);
        }
    }

    [Fact]
    public async Task One_account_that_knows_its_password_cannot_keep_the_user_service_hashing_beyond_its_few_changes_a_minute()
    {
        await using var system = await StartAsync(servers, new() { ["RateLimiting__PasswordChanges__PermitLimit"] = "3" });
        var owner = await system.NewUserAsync("hasher");
        var other = await system.NewUserAsync("bystander");
        using var client = owner.CreateClient();

        // Right every time, so the sign-in throttle never holds it up: each one a password check.
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 5; i++)
        {
            var change = await client.PutAsJsonAsync($"/api/users/{owner.Id}", new { email = $"{owner.UserName}+{i}@example.test", currentPassword = owner.Password }, Ct);
            statuses.Add(change.StatusCode);
            if (change.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused ??= change;
            }
            else
            {
                change.Dispose();
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        using (refused)
        {
            await ProblemAssert.IsProblemAsync(refused!, HttpStatusCode.TooManyRequests);
            Assert.NotNull(refused!.Headers.RetryAfter?.Delta);
        }

        // A new password counts the same; a change without a password does not; the others are not held up.
        using (var password = await client.PutAsJsonAsync($"/api/users/{owner.Id}", new { password = "an0ther-passw0rd", currentPassword = owner.Password }, Ct))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, password.StatusCode);
        }

        using (var mine = await client.GetAsync("/api/users/me", Ct))
        using (var theirs = await other.CreateClient().PutAsJsonAsync($"/api/users/{other.Id}", new { email = $"{other.UserName}+new@example.test", currentPassword = other.Password }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
            Assert.Equal(HttpStatusCode.OK, theirs.StatusCode);
        }
    }

    [Fact]
    public async Task A_device_token_from_before_a_sign_out_everywhere_no_longer_keeps_its_client_apart()
    {
        await using var system = await StartAsync(servers, new() { ["RateLimiting__SignInFailures__FreeAttempts"] = "5" });
        var owner = await system.NewUserAsync("stamped");
        using var client = system.CreateClient();
        string old;
        using (var signIn = await SignInAsync(client, owner.UserName, owner.Password))
        {
            old = signIn.Headers.GetValues("Device-Token").Single();
        }

        using (var everywhere = await owner.CreateClient().DeleteAsync($"/api/users/{owner.Id}/sessions", Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, everywhere.StatusCode);
        }

        await KeepGuessingUntilBlockedAsync(client, owner.UserName, 0);
        using var withOldToken = await SignInAsync(client, owner.UserName, owner.Password, deviceToken: old);
        Assert.Equal(HttpStatusCode.TooManyRequests, withOldToken.StatusCode);
    }

    /// <summary>
    /// Guesses on (from a new address each time, none of them a device token's), waiting out each short
    /// block, until the account is blocked for at least three seconds: a block a check can rely on.
    /// </summary>
    private static async Task<int> KeepGuessingUntilBlockedAsync(HttpClient client, string userName, int guesses)
    {
        while (true)
        {
            guesses++;
            using var guess = await SignInAsync(client, userName, $"guess-{guesses:D4}", forwardedFor: $"203.0.113.{guesses % 250 + 1}");
            if (guess.StatusCode == HttpStatusCode.TooManyRequests && guess.Headers.RetryAfter?.Delta is { } wait)
            {
                if (wait >= TimeSpan.FromSeconds(3))
                {
                    return guesses;
                }

                await Task.Delay(wait, Ct);
            }
        }
    }

    [Fact]
    public async Task Two_addresses_behind_a_trusted_proxy_have_separate_limits_and_without_trust_a_client_cannot_choose_its_address()
    {
        var limits = new Dictionary<string, string?> { ["RateLimiting__SignIn__PermitLimit"] = "3" };
        await using var trusting = await StartAsync(servers, new(limits) { ["ForwardedHeaders__KnownProxies__0"] = "127.0.0.1" });
        using var viaProxy = trusting.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            using var spent = await SignInAsync(viaProxy, "nobody-a", "wrong-password", forwardedFor: "198.51.100.1");
            Assert.Equal(HttpStatusCode.Unauthorized, spent.StatusCode);
        }

        using (var exhausted = await SignInAsync(viaProxy, "nobody-c", "wrong-password", forwardedFor: "198.51.100.1"))
        using (var other = await SignInAsync(viaProxy, "nobody-c", "wrong-password", forwardedFor: "198.51.100.2"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, exhausted.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, other.StatusCode);
        }

        // No trusted proxy: X-Forwarded-For is just a header, the connection's address counts.
        await using var direct = await StartAsync(servers, limits);
        using var client = direct.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await SignInAsync(client, "nobody-b", "wrong-password", forwardedFor: $"198.51.100.{i + 10}");
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }
}

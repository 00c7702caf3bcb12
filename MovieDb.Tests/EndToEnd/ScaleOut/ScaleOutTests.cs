using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MovieDb.Tests.EndToEnd.Browser;
using MovieDb.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace MovieDb.Tests.EndToEnd.ScaleOut;

/// <summary>
/// The guarantees of docs/reliability.md on more than one instance: two gateways and two web apps
/// sharing one Redis, behind round-robin balancers without session affinity.
/// </summary>
public sealed class ScaleOutTests(ScaleOutTests.System system) : IClassFixture<ScaleOutTests.System>
{
    public sealed class System(TestServers servers) : ScaledOutSystem(servers);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static IEnumerable<Microsoft.Playwright.Cookie> Copy(IEnumerable<BrowserContextCookiesResult> cookies) =>
        cookies.Select(c => new Microsoft.Playwright.Cookie { Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path, HttpOnly = c.HttpOnly, Secure = c.Secure, SameSite = c.SameSite, Expires = c.Expires });

    private static HttpRequestMessage SignIn(string userName, string password, string address) =>
        new(HttpMethod.Post, "/api/auth/login")
        {
            Content = JsonContent.Create(new { userName, password }),
            Headers = { { "X-Forwarded-For", address } },
        };

    [Fact]
    public async Task The_per_address_sign_in_limit_holds_across_both_gateways_whichever_answers()
    {
        const string address = "198.51.100.41";
        using var balanced = system.CreateBalancedClient();
        for (var i = 0; i < 10; i++)
        {
            using var attempt = await balanced.SendAsync(SignIn($"nobody{i}", "wrong-password", address), Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, attempt.StatusCode);
        }

        using var first = new HttpClient { BaseAddress = system.FirstGatewayAddress };
        using var second = new HttpClient { BaseAddress = system.SecondGatewayAddress };
        foreach (var gateway in new[] { balanced, first, second })
        {
            using var refused = await gateway.SendAsync(SignIn("nobody", "wrong-password", address), Ct);
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.TooManyRequests);
        }
    }

    [Fact]
    public async Task Signing_out_on_one_web_app_refuses_a_copy_of_the_cookie_on_the_other_at_once()
    {
        system.SkipWithoutBrowser();
        var user = await system.NewUserAsync("copied");
        var page = await system.NewBalancedPageAsync();
        await WebAppSystem.SignInAsync(page, user.UserName, user.Password);
        var copy = await system.Chromium.NewPageAsync(system.FirstWebAppAddress);
        await copy.Context.AddCookiesAsync(Copy(await page.Context.CookiesAsync()));
        await copy.GotoAsync("/movies");
        await Expect(copy).ToHaveURLAsync(new Regex("/movies"));

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true }).ClickAsync();
        await Expect(page.GetByText("You have signed out.")).ToBeVisibleAsync();

        foreach (var webApp in new[] { system.FirstWebAppAddress, system.SecondWebAppAddress })
        {
            await copy.GotoAsync(new Uri(webApp, "movies").ToString());
            await Expect(copy).ToHaveURLAsync(new Regex("/signin"));
        }
    }

    [Fact]
    public async Task Restarting_both_web_apps_keeps_everyone_signed_in()
    {
        system.SkipWithoutBrowser();
        var user = await system.NewUserAsync("stays");
        var page = await system.NewBalancedPageAsync();
        await WebAppSystem.SignInAsync(page, user.UserName, user.Password);
        var cookies = await page.Context.CookiesAsync();

        await system.RestartWebAppsAsync();

        // Kept in Redis (not in a file of this machine's, which both instances here could share anyway).
        var keys = await (await system.Servers.Redis.GetDatabaseAsync(system.CacheKeyPrefix)).ListLengthAsync("data-protection-keys");
        Assert.True(keys >= 1, "the web app's Data Protection keys are in Redis");

        var after = await system.NewBalancedPageAsync();
        await after.Context.AddCookiesAsync(Copy(cookies));
        for (var i = 0; i < 4; i++)
        {
            await after.GotoAsync("/movies");
            await Expect(after).ToHaveURLAsync(new Regex("/movies"));
            await Expect(after.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true })).ToBeVisibleAsync();
        }
    }

    [Fact]
    public async Task Sign_out_everywhere_on_the_account_page_ends_the_session_in_every_browser()
    {
        system.SkipWithoutBrowser();
        var user = await system.NewUserAsync("everywhere");
        var phone = await system.NewBalancedPageAsync();
        var laptop = await system.NewBalancedPageAsync();
        await WebAppSystem.SignInAsync(phone, user.UserName, user.Password);
        await WebAppSystem.SignInAsync(laptop, user.UserName, user.Password);

        await laptop.GotoAsync("/account");
        await laptop.GetByRole(AriaRole.Button, new() { Name = "Sign out everywhere" }).ClickAsync();
        await Expect(laptop.GetByText("You have signed out everywhere")).ToBeVisibleAsync();

        // The other browser's session was ended at the gateway: its access token is refused at once.
        await phone.GotoAsync("/movies");
        await Expect(phone.GetByText("Your session has ended")).ToBeVisibleAsync();
    }
}

/// <summary>
/// Token refreshes on more than one web app instance: the web apps refresh on every request here, so
/// every page load of a signed-in browser spends its refresh token.
/// </summary>
public sealed class ScaleOutRefreshTests(ScaleOutRefreshTests.System system) : IClassFixture<ScaleOutRefreshTests.System>
{
    public sealed class System(TestServers servers) : ScaledOutSystem(servers)
    {
        protected override bool RefreshOnEveryRequest => true;
    }

    [Fact]
    public async Task Fifty_parallel_page_loads_at_the_moment_the_access_token_expires_spread_over_both_web_apps_never_sign_the_person_out()
    {
        system.SkipWithoutBrowser();
        var user = await system.NewUserAsync("burst");
        var page = await system.NewBalancedPageAsync();
        await WebAppSystem.SignInAsync(page, user.UserName, user.Password);

        // Every request refreshes here (RefreshBefore is the token's whole lifetime): fifty at once, with
        // the same cookie, on both web apps — the refresh token works once.
        var loads = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => page.Context.APIRequest.GetAsync("/movies")));
        Assert.All(loads, load => Assert.True(load.Status == 200 && !load.Url.Contains("/signin", StringComparison.Ordinal), $"{load.Status} {load.Url}"));

        await page.GotoAsync("/movies");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true })).ToBeVisibleAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/movies"));
    }
}

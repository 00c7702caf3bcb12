using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MovieDb.Tests.EndToEnd.Browser;
using MovieDb.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace MovieDb.Tests.EndToEnd.ScaleOut;

/// <summary>
/// Redis away (docs/reliability.md, "When the cache is away"): the gateway and the web app keep
/// serving — limits and the sign-in throttle counted per instance, the web app on the keys it last
/// read — report Degraded, never answer 500 nor wait on Redis, and sign-out says it could not make sure.
/// </summary>
public sealed class CacheOutageTests(CacheOutageTests.System system) : IClassFixture<CacheOutageTests.System>
{
    /// <summary>The web app system, its Redis reached through a forwarder the test cuts.</summary>
    public sealed class System(TestServers servers) : WebAppSystem(servers)
    {
        public TcpForwarder Forwarder { get; } = new(ServiceProcess.FreePort(), servers.Redis.Host, servers.Redis.Port);

        protected override string CacheAddress => $"127.0.0.1:{Forwarder.Port}";

        public override async ValueTask InitializeAsync()
        {
            Forwarder.Start();
            await base.InitializeAsync();
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            await Forwarder.DisposeAsync();
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_Redis_gone_both_report_degraded_and_a_person_still_signs_in_works_and_is_told_sign_out_was_only_here()
    {
        system.SkipWithoutBrowser();
        var user = await system.NewUserAsync("outage");
        var page = await system.NewPageAsync();
        await WebAppSystem.SignInAsync(page, user.UserName, user.Password);

        // Redis stops answering (nothing is closed: every call would wait for its time-out).
        system.Forwarder.Stall();

        using var gateway = system.CreateClient();
        await Wait.UntilHealthAsync(gateway, "the gateway reports the cache away", "Degraded");
        using var webApp = new HttpClient { BaseAddress = system.WebAppAddress };
        await Wait.UntilHealthAsync(webApp, "the web app reports the cache away", "Degraded");

        // API calls and sign-ins go on: limits and the throttle are counted here meanwhile.
        for (var i = 0; i < 5; i++)
        {
            using var movies = await user.CreateClient().GetAsync("/api/movies", Ct);
            Assert.Equal(HttpStatusCode.OK, movies.StatusCode);
        }

        using (var login = await gateway.PostAsJsonAsync("/api/auth/login", new { userName = user.UserName, password = user.Password }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        }

        // The web app: pages, forms (antiforgery tokens need the keys), a new sign-in, then sign-out.
        await page.GotoAsync("/movies/new");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync();
        var other = await system.NewPageAsync();
        await WebAppSystem.SignInAsync(other, user.UserName, user.Password);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("reason=signed-out-here"));
        await Expect(page.GetByText("Signed out of this browser only")).ToBeVisibleAsync();

        // Guessing is still slowed down: this instance counts alone.
        var guesses = new List<HttpStatusCode>();
        for (var i = 0; i < 7; i++)
        {
            using var guess = await gateway.PostAsJsonAsync("/api/auth/login", new { userName = user.UserName, password = $"guess-{i}" }, Ct);
            guesses.Add(guess.StatusCode);
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), guesses.Take(5));
        Assert.Contains(HttpStatusCode.TooManyRequests, guesses.Skip(5));
    }
}

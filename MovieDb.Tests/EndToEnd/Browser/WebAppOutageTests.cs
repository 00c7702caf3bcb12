using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Movies;
using static Microsoft.Playwright.Assertions;

namespace MovieDb.Tests.EndToEnd.Browser;

/// <summary>The broker goes away under a signed-in person: they get words and a retry, never a stack trace.</summary>
public sealed class WebAppBrokerDownTests(WebAppBrokerDownTests.System system) : IClassFixture<WebAppBrokerDownTests.System>
{
    public sealed class System(TestServers servers) : WebAppSystem(servers);

    [Fact]
    public async Task Without_the_broker_account_pages_say_so_with_a_retry_and_movies_still_work()
    {
        system.SkipWithoutBrowser();
        var user = await system.NewUserAsync("calm");
        using (var client = user.CreateClient())
        {
            await MovieHttp.CreateAsync(client, MovieHttp.NewMovie("Nostalghia", 1983), "/api/movies");
        }

        var page = await system.NewPageAsync();
        await WebAppSystem.SignInAsync(page, user.UserName, user.Password);

        // Deleting the virtual host cuts this system off its broker (other tests keep theirs).
        await system.VirtualHost.DisposeAsync();
        using (var gateway = system.CreateClient())
        {
            await Wait.UntilHealthAsync(gateway, "the gateway notices the broker is gone", "Degraded");
        }

        await page.GotoAsync("/account");
        var message = page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "Accounts are unavailable right now" });
        await Expect(message).ToBeVisibleAsync();
        await Expect(message).ToContainTextAsync("Nothing was changed");
        await Expect(message.GetByRole(AriaRole.Link, new() { Name = "Try again" })).ToHaveAttributeAsync("href", "/account");
        var html = await page.ContentAsync();
        Assert.DoesNotContain("Exception", html, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", html, StringComparison.Ordinal);
        await Chromium.ScreenshotAsync(page, "broker-down");

        // The movie service does not need the broker: the session (its token could not be
        // refreshed, but is still valid) still lists the movies.
        await page.GotoAsync("/movies");
        await Expect(page.Locator(".movie-card h2 a")).ToHaveTextAsync(["Nostalghia"]);

        // Signing in needs the user service: refused with an explanation, nothing more.
        var other = await system.NewPageAsync();
        await other.GotoAsync("/signin");
        await other.GetByLabel("User name").FillAsync(user.UserName);
        await other.GetByLabel("Password").FillAsync(user.Password);
        await other.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(other.GetByRole(AriaRole.Heading, new() { Name = "Accounts are unavailable right now" })).ToBeVisibleAsync();
        await Expect(other).ToHaveURLAsync(new Regex("/signin$"));
    }
}

/// <summary>
/// A sign-up while no user service runs: the broker keeps it (202), the page says it is queued and —
/// the one interactive component — follows the status resource until the account exists.
/// </summary>
public sealed class WebAppQueuedSignUpTests(WebAppQueuedSignUpTests.System system) : IClassFixture<WebAppQueuedSignUpTests.System>
{
    public sealed class System(TestServers servers) : WebAppSystem(servers)
    {
        protected override IDictionary<string, string?> GatewaySettings => new Dictionary<string, string?> { ["Messaging:RequestTimeout"] = "00:00:01" };
    }

    [Fact]
    public async Task A_queued_sign_up_is_shown_as_queued_and_the_page_updates_itself_when_the_account_exists()
    {
        system.SkipWithoutBrowser();
        await system.StopUserServiceAsync();
        var name = $"late{Guid.NewGuid():N}"[..16];

        var page = await system.NewPageAsync();
        await page.GotoAsync("/signup");
        await page.GetByLabel("User name").FillAsync(name);
        await page.GetByLabel("E-mail").FillAsync($"{name}@example.test");
        await page.GetByLabel("Password").FillAsync("s3cret-passw0rd");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/signup/queued/"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your sign-up is queued" })).ToBeVisibleAsync();
        await Chromium.ScreenshotAsync(page, "signup-queued");

        await system.StartUserServiceAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your account is ready" })).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(page.Locator("main")).ToContainTextAsync(name);

        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in" }).Last.ClickAsync();
        await Expect(page.GetByText("Your account is ready. Sign in")).ToBeVisibleAsync();
        await page.GetByLabel("User name").FillAsync(name);
        await page.GetByLabel("Password").FillAsync("s3cret-passw0rd");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByText("No movies yet")).ToBeVisibleAsync();
    }
}

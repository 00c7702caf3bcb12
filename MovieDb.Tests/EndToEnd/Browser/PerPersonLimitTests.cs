using Microsoft.Playwright;
using MovieDb.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace MovieDb.Tests.EndToEnd.Browser;

/// <summary>
/// The gateway sees the person, not the web app: each browser's address travels to the gateway in
/// X-Forwarded-For, which the gateway believes from the web app only, so its per-address sign-in
/// limit counts each person on their own. (Every browser here is on this machine: the web app is put
/// behind a trusted proxy, as the Container Apps ingress is, and each browser context says where it
/// is through that proxy's header.)
/// </summary>
public sealed class PerPersonLimitTests(PerPersonLimitTests.System system) : IClassFixture<PerPersonLimitTests.System>
{
    public sealed class System(TestServers servers) : WebAppSystem(servers)
    {
        protected override IDictionary<string, string?> GatewaySettings => new Dictionary<string, string?>
        {
            ["RateLimiting:SignIn:PermitLimit"] = "3",
            ["RateLimiting:SignIn:Window"] = "00:05:00",
        };

        // What ASPNETCORE_FORWARDEDHEADERS_ENABLED does in a deployment: believe the ingress's header.
        protected override IDictionary<string, string?> WebAppSettings => new Dictionary<string, string?>
        {
            ["Session:RefreshBefore"] = "00:15:00",
            ["FORWARDEDHEADERS_ENABLED"] = "true",
        };
    }

    [Fact]
    public async Task Two_people_behind_the_web_app_are_limited_separately()
    {
        system.SkipWithoutBrowser();
        var guesser = await system.NewUserAsync("guesser");
        var other = await system.NewUserAsync("other");
        var first = await system.NewPageAsync(forwardedFor: "198.51.100.21");
        var second = await system.NewPageAsync(forwardedFor: "198.51.100.22");

        for (var i = 0; i < 3; i++)
        {
            await TrySignInAsync(first, guesser.UserName, $"wrong-password-{i}");
            await Expect(first.GetByRole(AriaRole.Alert)).ToContainTextAsync("do not match an account");
        }

        await TrySignInAsync(first, guesser.UserName, guesser.Password);
        await Expect(first.GetByText("Too many attempts")).ToBeVisibleAsync();

        // The other person, at another address, is not held back by the first one's attempts.
        await WebAppSystem.SignInAsync(second, other.UserName, other.Password);
    }

    private static async Task TrySignInAsync(IPage page, string userName, string password)
    {
        await page.GotoAsync("/signin");
        await page.GetByLabel("User name").FillAsync(userName);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }
}

using Microsoft.Playwright;
using MovieDb.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace MovieDb.Tests.EndToEnd.Browser;

/// <summary>
/// The in-process system with the web app on a real port, and one Chromium for the test class.
/// The web app refreshes the access token on every request (RefreshBefore is the token's whole
/// lifetime), so every browser test also exercises the refresh path.
/// </summary>
public class WebAppSystem(TestServers servers) : InProcessSystem(servers)
{
    static WebAppSystem() => SetDefaultExpectTimeout(20_000);

    public Chromium Chromium { get; } = new();

    protected override bool StartsWebApp => true;

    protected override IDictionary<string, string?> WebAppSettings => new Dictionary<string, string?>
    {
        ["Session:RefreshBefore"] = "00:15:00",
    };

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Chromium.LaunchAsync();
    }

    /// <summary>Skips the calling test, with the reason, when Chromium cannot run here.</summary>
    public void SkipWithoutBrowser() =>
        Assert.SkipWhen(Chromium.UnavailableReason is not null, Chromium.UnavailableReason ?? string.Empty);

    public Task<IPage> NewPageAsync(bool phone = false, bool javaScript = true, string? forwardedFor = null) =>
        Chromium.NewPageAsync(WebAppAddress, phone, javaScript, forwardedFor);

    /// <summary>
    /// Signs in through the sign-in page and waits for the movie list. When that does not come, the
    /// test's output gets the page's text and the browser's requests, console and failures meanwhile.
    /// </summary>
    public static async Task SignInAsync(IPage page, string userName, string password)
    {
        await page.GotoAsync("/signin");
        await page.GetByLabel("User name").FillAsync(userName);
        await page.GetByLabel("Password").FillAsync(password);
        var events = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Console += (_, message) => events.Enqueue("console: " + message.Text);
        page.RequestFailed += (_, request) => events.Enqueue($"failed: {request.Method} {request.Url} {request.Failure}");
        page.Response += (_, response) => events.Enqueue($"{response.Status} {response.Request.Method} {response.Url}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        try
        {
            await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/movies"));
        }
        catch (PlaywrightException)
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"Sign-in did not reach the movie list. The page says:\n{await page.InnerTextAsync("main")}\nThe browser meanwhile:\n{string.Join('\n', events)}");
            throw;
        }

        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true })).ToBeVisibleAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await Chromium.DisposeAsync();
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

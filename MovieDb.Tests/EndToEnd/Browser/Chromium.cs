using Microsoft.Playwright;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.EndToEnd.Browser;

/// <summary>
/// Debian's Chromium, driven by Playwright (no browser download: <c>playwright install</c> is never
/// run). Starting it never throws: when it cannot start, <see cref="UnavailableReason"/> says why and
/// each browser test skips with that reason — decided inside the test, because a skip thrown from a
/// fixture's start is reported as a failure.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    public const string ExecutableVariable = "MOVIEDB_TEST_CHROMIUM";

    private static readonly TimeSpan LaunchTimeout = TimeSpan.FromSeconds(60);

    private IPlaywright? _playwright;

    public IBrowser? Browser { get; private set; }

    public string? UnavailableReason { get; private set; }

    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable(ExecutableVariable) is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public async Task LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            UnavailableReason = $"Chromium is not installed at {ExecutablePath} (set {ExecutableVariable} to use another): scripts/test.sh installs it with apt-get install chromium.";
            return;
        }

        try
        {
            _playwright = await Playwright.CreateAsync().WaitAsync(LaunchTimeout, TestContext.Current.CancellationToken);
            Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Timeout = (float)LaunchTimeout.TotalMilliseconds,
            }).WaitAsync(LaunchTimeout, TestContext.Current.CancellationToken);
        }
        catch (Exception ex) when (ex is PlaywrightException or TimeoutException or InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
            UnavailableReason = $"Chromium ({ExecutablePath}) could not be started by Playwright: {ex.Message.Split('\n')[0]}";
        }
    }

    /// <summary>A fresh browser context (its own cookies) on <paramref name="baseAddress"/>, at desktop or phone size.</summary>
    /// <summary>A new page in a context of its own; <paramref name="forwardedFor"/> makes it look, to a web app behind a trusted proxy, like a browser at that address.</summary>
    public async Task<IPage> NewPageAsync(Uri baseAddress, bool phone = false, bool javaScript = true, string? forwardedFor = null)
    {
        var context = await Browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            ViewportSize = phone ? new ViewportSize { Width = 390, Height = 844 } : new ViewportSize { Width = 1280, Height = 860 },
            IsMobile = phone,
            JavaScriptEnabled = javaScript,
            ExtraHTTPHeaders = forwardedFor is null ? null : new Dictionary<string, string> { ["X-Forwarded-For"] = forwardedFor },
        }).WaitAsync(Wait.DefaultTimeout, TestContext.Current.CancellationToken);

        // Every Playwright action and expectation is bounded by these.
        context.SetDefaultTimeout(20_000);
        context.SetDefaultNavigationTimeout(30_000);
        return await context.NewPageAsync().WaitAsync(Wait.DefaultTimeout, TestContext.Current.CancellationToken);
    }

    /// <summary>Saves a PNG of the page under TestResults/screenshots/ (not committed; a few are copied to docs/).</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var directory = Path.Combine(RepositoryPaths.Root, "TestResults", "screenshots");
        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name + ".png"), FullPage = true })
            .WaitAsync(Wait.DefaultTimeout, TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _playwright?.Dispose();
    }
}

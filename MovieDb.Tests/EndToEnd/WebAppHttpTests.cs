using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using MovieDb.Tests.Infrastructure;
using WebApp;

namespace MovieDb.Tests.EndToEnd;

/// <summary>
/// The web app over plain HTTP, with no gateway behind it: what it answers before any API call
/// matters — redirects, forms it refuses, pages that need no data, and its words when the gateway
/// is away. (The flows with a gateway run in a real browser: <c>Browser/</c>.)
/// </summary>
public sealed partial class WebAppHttpTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ServiceFactory<WebAppApp> _webApp = null!;

    public ValueTask InitializeAsync()
    {
        _webApp = new ServiceFactory<WebAppApp>(new Dictionary<string, string?>
        {
            ["services:gateway:http:0"] = $"http://127.0.0.1:{ServiceProcess.FreePort()}",
        });
        return ValueTask.CompletedTask;
    }

    private HttpClient Client() => _webApp.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    [Fact]
    public async Task A_page_that_needs_a_session_sends_the_person_to_sign_in_and_back()
    {
        using var client = Client();
        using var response = await client.GetAsync("/movies?genre=Drama", Ct);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/signin?returnUrl=%2Fmovies%3Fgenre%3DDrama", response.Headers.Location?.PathAndQuery);
    }

    [Theory]
    [InlineData("/reset-password?token=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")]
    [InlineData("/activate?token=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")]
    public async Task The_pages_behind_a_mailed_link_are_never_cached_and_call_nothing_before_the_button(string link)
    {
        using var client = Client();
        using var response = await client.GetAsync(link, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore, $"{link}: Cache-Control {response.Headers.CacheControl}");

        // The gateway behind this web app is not running: a page that called it on opening would say
        // MovieDb is unavailable. It shows the form and its button instead.
        var html = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains("type=\"submit\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("unavailable", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Sign_out_without_the_forms_antiforgery_token_is_refused()
    {
        using var client = Client();
        using var response = await client.PostAsync("/signout", new FormUrlEncodedContent([]), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(response.Headers, h => h.Key == "Set-Cookie" && h.Value.Any(v => v.StartsWith("moviedb.session", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Every_answer_carries_a_strict_content_security_policy_and_unknown_pages_are_a_page()
    {
        using var client = Client();
        using var page = await client.GetAsync("/signin", Ct);
        using var missing = await client.GetAsync("/no-such-page", Ct);

        var csp = string.Join(' ', page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", await page.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("Page not found", await missing.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_activation_pages_render_what_the_mail_link_and_the_resend_need()
    {
        using var client = Client();
        var activate = await client.GetStringAsync("/activate?token=tok-123_abc", Ct);
        var checkEmail = await client.GetStringAsync("/signup/check-email?user=bob", Ct);

        // Activation is a button (a POST), never a GET: mail scanners open links.
        Assert.Contains("name=\"Input.Token\" value=\"tok-123_abc\"", activate, StringComparison.Ordinal);
        Assert.Contains("Activate my account", activate, StringComparison.Ordinal);
        Assert.Contains("__RequestVerificationToken", activate, StringComparison.Ordinal);
        Assert.Contains("Send the link again", checkEmail, StringComparison.Ordinal);
        Assert.Contains("name=\"Resend.UserNameOrEmail\" value=\"bob\"", checkEmail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signing_in_while_the_gateway_is_away_says_so_in_words_without_internals()
    {
        using var client = _webApp.CreateClient();
        var form = await client.GetStringAsync("/signin", Ct);
        var token = AntiforgeryToken().Match(form).Groups[1].Value;

        using var response = await client.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "signin",
            ["__RequestVerificationToken"] = token,
            ["Input.UserName"] = "someone",
            ["Input.Password"] = "a-password-never-shown",
        }), Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("MovieDb is unavailable right now", html, StringComparison.Ordinal);
        Assert.DoesNotContain("a-password-never-shown", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", html, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", html, StringComparison.Ordinal);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    public async ValueTask DisposeAsync() => await _webApp.DisposeAsync();
}

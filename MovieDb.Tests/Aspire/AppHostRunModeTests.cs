using System.Net;
using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using MovieDb.Tests.EndToEnd;
using MovieDb.Tests.EndToEnd.Browser;
using MovieDb.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace MovieDb.Tests.Aspire;

/// <summary>
/// The shared scenarios against the system the real AppHost starts in run mode (DCP, the dashboard,
/// the five projects) on this machine's servers — the AppHost's existing-servers mode, as
/// scripts/run-local.sh runs it. New accounts are activated through the mails the SMTP server receives.
/// </summary>
public sealed class AppHostRunModeTests(AspireSystem system) : IClassFixture<AspireSystem>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_resource_runs_and_every_project_is_healthy()
    {
        await system.StartAsync();

        var states = system.ResourceStates();
        Assert.All(states, state => Assert.True(state.Value == "Running", $"{state.Key}: {state.Value ?? "no state"}"));
        foreach (var project in AspireSystem.Projects)
        {
            using var client = system.App.CreateHttpClient(project);
            using var health = await client.GetAsync("/health", Ct);
            Assert.True(health.StatusCode == HttpStatusCode.OK, $"{project} /health: {(int)health.StatusCode}");
        }
    }

    [Fact]
    public async Task The_user_journey_works_through_the_gateway()
    {
        await system.StartAsync();
        await Scenarios.UserJourneyAsync(system);
    }

    [Fact]
    public async Task Users_see_only_their_own_movies_and_an_admin_sees_all()
    {
        await system.StartAsync();
        await Scenarios.UsersSeeOnlyTheirOwnMoviesAsync(system);
    }

    [Fact]
    public async Task An_admin_deletes_a_user_and_their_movies_go()
    {
        await system.StartAsync();
        await Scenarios.AnAdminDeletesAUserAndTheirMoviesGoAsync(system);
    }

    [Fact]
    public async Task Spoofed_identity_headers_gain_nothing()
    {
        await system.StartAsync();
        await Scenarios.SpoofedIdentityHeadersGainNothingAsync(system);
    }

    [Fact]
    public async Task The_mailed_activation_link_opens_the_web_app_the_AppHost_started()
    {
        await system.StartAsync();
        using var client = system.CreateClient();
        var name = $"link{Guid.NewGuid():N}"[..20];
        using var register = await client.PostAsJsonAsync("/api/auth/register", new { userName = name, email = $"{name}@example.test", password = "s3cret-passw0rd" }, Ct);
        Assert.Equal(HttpStatusCode.Created, register.StatusCode);

        var mail = (await system.Mailbox!.WaitForAsync($"{name}@example.test"))[^1];
        var webApp = system.App.GetEndpoint("webapp", "http");
        Assert.Equal((webApp.Host, webApp.Port, "/activate"), (mail.Link.Host, mail.Link.Port, mail.Link.AbsolutePath));

        // The page behind the link asks for a click before it activates (a mail scanner must not).
        using var browser = system.App.CreateHttpClient("webapp");
        var page = await browser.GetStringAsync(mail.Link.PathAndQuery, Ct);
        Assert.Contains("<form", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_web_app_serves_its_pages_and_sends_a_signed_out_visitor_to_sign_in()
    {
        await system.StartAsync();
        using var handler = new HttpClientHandler { AllowAutoRedirect = false };
        using var browser = new HttpClient(handler) { BaseAddress = system.App.GetEndpoint("webapp", "http") };

        var signIn = await browser.GetStringAsync("/signin", Ct);
        Assert.Contains("<h1>Sign in</h1>", signIn, StringComparison.Ordinal);
        var signUp = await browser.GetStringAsync("/signup", Ct);
        Assert.Contains("<h1>", signUp, StringComparison.Ordinal);
        using var movies = await browser.GetAsync("/movies", Ct);
        Assert.True(movies.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found, $"/movies signed out: {(int)movies.StatusCode}");
        Assert.Contains("/signin", movies.Headers.Location?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_dashboard_shows_every_resource_running_and_a_trace_from_the_web_app_through_the_broker_into_the_user_service()
    {
        await system.StartAsync();
        await using var chromium = new Chromium();
        await chromium.LaunchAsync();
        Assert.SkipWhen(chromium.UnavailableReason is not null, chromium.UnavailableReason ?? string.Empty);

        // A person signs in on the web app: web app → gateway → users.login over RabbitMQ → user service.
        var webApp = await chromium.NewPageAsync(system.App.GetEndpoint("webapp", "http"));
        await WebAppSystem.SignInAsync(webApp, MovieDbSystem.AdminUserName, MovieDbSystem.AdminPassword);

        var login = await system.GetDashboardLoginUrlAsync();
        var telemetry = new DashboardTelemetry(new Uri(login.GetLeftPart(UriPartial.Authority)), system.DashboardApiKey);
        var traceId = await telemetry.WaitForTraceAsync(
            "a trace that runs from the web app through the gateway and the broker into the user service",
            spans => spans.Any(s => s.Resource == "webapp" && s.Kind == "client")
                && spans.Any(s => s.Resource == "gateway" && s.Kind == "producer")
                && spans.Any(s => s.Resource == "userservice" && s.Kind == "consumer"));
        var trace = (await telemetry.GetSpansAsync()).Where(s => s.TraceId == traceId).ToList();
        Assert.DoesNotContain(trace, s => s.Error);

        var dashboard = await chromium.NewPageAsync(new Uri(login.GetLeftPart(UriPartial.Authority)));
        await dashboard.GotoAsync(login.PathAndQuery);
        foreach (var resource in AspireSystem.Projects)
        {
            var row = dashboard.Locator("tr.resource-row").Filter(new() { HasText = resource });
            await Expect(row.First.Locator(".state-column-cell")).ToContainTextAsync("Running", new() { Timeout = 30_000 });
        }

        await Chromium.ScreenshotAsync(dashboard, "dashboard-resources");

        await dashboard.GotoAsync($"/traces/detail/{traceId}");
        var grid = dashboard.Locator("table.trace-view-grid");
        foreach (var resource in new[] { "webapp", "gateway", "userservice" })
        {
            await Expect(grid).ToContainTextAsync(resource, new() { Timeout = 30_000 });
        }

        await Chromium.ScreenshotAsync(dashboard, "dashboard-trace");
    }
}

/// <summary>
/// The AppHost's default mode: MySQL, MongoDB, RabbitMQ and MailPit as containers. Needs a container
/// runtime; where there is none (these build machines), the test skips, saying so.
/// </summary>
public sealed class AspireContainersTests
{
    [Fact]
    public async Task With_containers_the_AppHost_starts_every_resource_and_the_gateway_answers()
    {
        Assert.SkipUnless(await ContainerRuntimeAnswersAsync(), "No container runtime answers (`docker info` fails or docker is not installed): in its default mode the AppHost runs MySQL, MongoDB, RabbitMQ and MailPit as containers. The same AppHost runs here in existing-servers mode (AppHostRunModeTests).");
        var ct = TestContext.Current.CancellationToken;
        var timeout = TimeSpan.FromMinutes(8);

        // Everything the AppHost would otherwise take from a developer's user secrets, given here.
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.MovieDb_AppHost>(
        [
            "MovieDb:Servers=containers",
            $"Parameters:admin-password={MovieDbSystem.AdminPassword}",
            $"Parameters:jwt-signing-key={InProcessSystem.SigningKey}",
            $"Parameters:gateway-identity-key={InProcessSystem.IdentityKey}",
            $"Parameters:messaging-signing-key={InProcessSystem.MessagingSigningKey}",
            $"Parameters:event-signing-key={InProcessSystem.EventSigningKey}",
        ], ct).WaitAsync(timeout, ct);
        await using var app = await builder.BuildAsync(ct).WaitAsync(timeout, ct);
        await app.StartAsync(ct).WaitAsync(timeout, ct);
        foreach (var project in AspireSystem.Projects)
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(project, ct).WaitAsync(timeout, ct);
        }

        using var gateway = app.CreateHttpClient("gateway");
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/health", ct)).StatusCode);
    }

    private static async Task<bool> ContainerRuntimeAnswersAsync()
    {
        if (!CommandLineTools.OnPath("docker"))
        {
            return false;
        }

        try
        {
            return (await CommandLineTools.RunAsync("docker", ["info"], Path.GetTempPath(), timeout: TimeSpan.FromSeconds(20))).ExitCode == 0;
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
